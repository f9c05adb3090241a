-- Rows that count (SPEC 4 and 6): from loads that were not voided or replaced, and for each
-- business key (programme, cohort, nuptk or name and npsn, role) the latest such load.
with counting_rows as (

    {{ counting_rows('stg_cohorts') }}

),

counting as (

    select
        rows.*,
        coalesce(rows.nuptk, rows.participant_name || '|' || coalesce(rows.npsn, ''))
            as participant_identity,
        {{ school_key('rows.npsn', 'rows.school_name', 'rows.regency_code') }} as school_key
    from counting_rows as rows

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
