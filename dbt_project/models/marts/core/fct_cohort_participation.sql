-- One row per counting participant row (SPEC 6), with its raw row's lineage.
with participation as (

    select * from {{ ref('int_cohorts__current') }}

)

select
    programme || ':' || cohort as programme_cohort_key,
    programme,
    cohort::integer as cohort,
    teacher_key,
    school_key,
    regency_code,
    province_code,
    role,
    status,
    gender,
    jenjang,
    start_date,
    end_date,
    _load_id,
    _source_file,
    _sheet,
    _row_number::integer as _row_number
from participation
