-- One row per counting attendance row, with its raw row's lineage. A participant without a
-- NUPTK has no teacher_key: counted, never joined across sources.
with attendance as (

    select * from {{ ref('int_trainings__current') }}

)

select
    event_code,
    teacher_key,
    school_key,
    participant_role,
    mode,
    attended,
    jp::integer as jp,
    regency_code,
    province_code,
    start_date,
    date_trunc('month', start_date)::date as month_start_date,
    _load_id,
    _source_file,
    _sheet,
    _row_number::integer as _row_number
from attendance
