-- Named follow-up list (SPEC 6, restricted to ops_reader): graduates whose latest survey was
-- last year, not yet surveyed this year (years in Asia/Jakarta).
with surveys as (

    select * from {{ ref('int_alumni_surveys__current') }}

)

select
    nisn,
    alumni_name,
    npsn,
    school_name,
    regency_code,
    competency,
    graduation_year,
    survey_date as last_survey_date,
    status as last_status
from surveys
where extract(year from survey_date)
    = extract(year from (now() at time zone 'Asia/Jakarta')) - 1
