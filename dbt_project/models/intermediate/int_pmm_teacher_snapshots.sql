{{ pmm_snapshot_table_config() }}
-- depends_on: {{ ref('int_pmm_snapshot_loads') }}
-- One row per (snapshot date, load, teacher, school, regency) of the PMM rows that count: what
-- the regency ranking, each teacher's latest snapshot and school read, a sixth of the rows.
-- Kept per snapshot date like the rows it sums.
with progress as (

    select * from {{ ref('int_pmm_progress__current') }}
    {{ pmm_changed_dates_only() }}

)

select
    snapshot_date,
    _load_id,
    teacher_key,
    school_key,
    regency_code,
    max(_loaded_at) as _loaded_at,
    count(*)::integer as topics,
    (count(*) filter (where {{ pmm_is_completed() }}))::integer as topics_completed,
    -- exact (numeric), so sums over any grouping are the same whatever the order
    sum(modules_completed::numeric / modules_total) as module_progress_sum,
    {{ built_at() }} as _built_at
from progress
group by snapshot_date, _load_id, teacher_key, school_key, regency_code
