-- One row per graduate (their latest counting survey), with its raw row's lineage.
with surveys as (

    select * from {{ ref('int_alumni_surveys__current') }}

)

select
    alumni_key,
    school_key,
    npsn,
    regency_code,
    province_code,
    competency_key,
    graduation_year::integer as graduation_year,
    survey_date,
    status,
    aligned,
    wait_months::integer as wait_months,
    sector,
    income_band,
    _load_id,
    _source_file,
    _sheet,
    _row_number::integer as _row_number
from surveys
