{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where snapshot_date in ("
                 ~ "{{ pmm_changed_snapshot_date_literals(this) }}){% endif %}"
    )
}}
-- depends_on: {{ ref('stg_pmm_progress') }}
-- depends_on: {{ ref('stg_loads') }}
-- Periodic snapshot: one row per (teacher, topic, snapshot date) that counts. Incremental:
-- only the snapshot dates whose contributing loads changed are deleted (pre-hook) and rebuilt.
with progress as (

    select * from {{ ref('int_pmm_progress__current') }}
    {% if is_incremental() %}
    where snapshot_date in ({{ pmm_changed_snapshot_date_literals(this) }})
    {% endif %}

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
    modules_completed = modules_total and aksi_nyata_status = 'tervalidasi' as is_completed,
    _load_id,
    _source_file,
    _sheet,
    _row_number::integer as _row_number
from progress
