{{ pmm_snapshot_table_config() }}
-- depends_on: {{ ref('int_pmm_snapshot_loads') }}
-- How often each topic code is written each way, per (snapshot date, load): dim_pmm_topic's
-- most frequent name, without reading every PMM row. Kept per snapshot date.
with progress as (

    select * from {{ ref('int_pmm_progress__current') }}
    {{ pmm_changed_dates_only() }}

)

select
    snapshot_date,
    _load_id,
    topic_code,
    topic,
    count(*)::bigint as mentions,
    {{ built_at() }} as _built_at
from progress
group by snapshot_date, _load_id, topic_code, topic
