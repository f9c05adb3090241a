{{ pmm_snapshot_table_config() }}
-- depends_on: {{ ref('int_pmm_snapshot_loads') }}
-- How often each school is written each way, per (snapshot date, load): dim_school's mentions
-- from PMM, without reading every PMM row. Kept per snapshot date.
with progress as (

    select * from {{ ref('int_pmm_progress__current') }}
    {{ pmm_changed_dates_only() }}

)

select
    snapshot_date,
    _load_id,
    school_key,
    npsn,
    school_name,
    regency_code,
    jenjang,
    count(*)::bigint as mentions,
    {{ built_at() }} as _built_at
from progress
group by snapshot_date, _load_id, school_key, npsn, school_name, regency_code, jenjang
