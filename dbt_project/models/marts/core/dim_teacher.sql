-- Teachers by pseudonymous key, SCD type 2 on school and regency (from the teacher_history
-- snapshot); each version is valid from the _loaded_at of the load that brought it.
with history as (

    select * from {{ ref('teacher_history') }}

),

versions as (

    select
        dbt_scd_id as teacher_version_id,
        teacher_key,
        school_key,
        regency_code,
        _loaded_at as valid_from,
        lead(_loaded_at) over (partition by teacher_key order by _loaded_at, dbt_valid_from)
            as valid_to
    from history

)

select
    teacher_version_id,
    teacher_key,
    school_key,
    regency_code,
    valid_from,
    valid_to,
    valid_to is null as is_current
from versions
