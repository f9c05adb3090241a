-- One survey per graduate (SPEC 3.4): among counting loads, the latest survey_date wins, and
-- on equal dates the latest load.
with rows as (

    select * from {{ ref('stg_alumni_surveys') }}

),

loads as (

    select load_id from {{ ref('stg_loads') }} where is_counting

),

counting as (

    select
        rows.*,
        {{ school_key('rows.npsn', 'rows.school_name', 'rows.regency_code') }} as school_key,
        {{ fold('rows.competency') }} as competency_key
    from rows
    inner join loads on loads.load_id = rows._load_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by nisn
            order by survey_date desc, _load_id desc
        ) as version_rank
    from counting

)

select * from ranked where version_rank = 1
