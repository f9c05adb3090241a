-- Rows that count (SPEC 4 and 6): from loads that were not voided or replaced, and for each
-- business key (programme, cohort, nuptk or name and npsn, role) the latest such load.
with rows as (

    select * from {{ ref('stg_cohorts') }}

),

loads as (

    select load_id from {{ ref('stg_loads') }} where is_counting

),

counting as (

    select
        rows.*,
        coalesce(rows.nuptk, rows.participant_name || '|' || coalesce(rows.npsn, ''))
            as participant_identity,
        {{ school_key('rows.npsn', 'rows.school_name', 'rows.regency_code') }} as school_key
    from rows
    inner join loads on loads.load_id = rows._load_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by programme, cohort, participant_identity, role
            order by _load_id desc
        ) as version_rank
    from counting

)

select * from ranked where version_rank = 1
