{{ pmm_snapshot_table_config() }}
-- depends_on: {{ ref('stg_pmm_progress') }}
-- depends_on: {{ ref('stg_loads') }}
-- depends_on: {{ ref('int_pmm_snapshot_loads') }}
-- Periodic snapshot: one row per (teacher, topic, snapshot date) that counts. Kept per snapshot
-- date: only the dates whose contributing loads changed are deleted (pre-hook) and rebuilt.
with progress as (

    select * from {{ ref('int_pmm_progress__current') }}
    {{ pmm_changed_dates_only() }}

)

select
    snapshot_date,
    teacher_key,
    topic_code,
    school_key,
    regency_code,
    province_code,
    jenjang,
    modules_completed::integer as modules_completed,
    modules_total::integer as modules_total,
    post_test_score,
    aksi_nyata_status,
    {{ pmm_is_completed() }} as is_completed,
    _load_id,
    _source_file,
    _sheet,
    _row_number::integer as _row_number,
    {{ built_at() }} as _built_at
from progress
