-- One survey per graduate (SPEC 3.4): among counting loads, the latest survey_date wins, and
-- on equal dates the latest load.
with counting_rows as (

    {{ counting_rows('stg_alumni_surveys') }}

),

counting as (

    select
        rows.*,
        {{ school_key('rows.npsn', 'rows.school_name', 'rows.regency_code') }} as school_key,
        {{ fold('rows.competency') }} as competency_key
    from counting_rows as rows

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
