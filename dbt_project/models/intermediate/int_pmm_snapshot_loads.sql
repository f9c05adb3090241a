{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where _load_id not in ("
                 ~ "select load_id from {{ ref('stg_loads') }} where is_counting){% endif %}"
    )
}}
-- The (snapshot date, load) pairs of the PMM rows that count now: what each table kept per
-- snapshot date compares its own pairs with to find the dates to rebuild. Raw rows never
-- change, so a load's pairs are read once, when it first counts (through raw's index on
-- _load_id); a load that stops counting (voided, replaced) is dropped by the pre-hook.
select
    rows.snapshot_date,
    rows._load_id,
    count(*)::bigint as counting_rows
from ({{ counting_rows('stg_pmm_progress') }}) as rows
{% if is_incremental() %}
where rows._load_id = any(array(
    select load_id from {{ ref('stg_loads') }}
    where is_counting and load_id not in (select _load_id from {{ this }})))
{% endif %}
group by rows.snapshot_date, rows._load_id
