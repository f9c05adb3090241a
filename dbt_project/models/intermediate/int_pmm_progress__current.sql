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
-- PMM rows that count: latest counting load per (nuptk, topic, snapshot_date). A table, kept
-- like fct_pmm_progress: only the snapshot dates whose contributing loads changed are deleted
-- and rebuilt, so the fact, topics, schools and teachers read stored rows instead of ranking
-- (and keying, with a regex) every row ever loaded, each of them, on every build.
with counting_rows as (

    {{ counting_rows('stg_pmm_progress') }}
    {% if is_incremental() %}
    where rows.snapshot_date in ({{ pmm_changed_snapshot_date_literals(this) }})
    {% endif %}

),

counting as (

    select
        rows.*,
        {{ school_key('rows.npsn', 'rows.school_name', 'rows.regency_code') }} as school_key
    from counting_rows as rows

),

ranked as (

    select
        *,
        row_number() over (
            partition by nuptk, topic_code, snapshot_date
            order by _load_id desc
        ) as version_rank
    from counting

)

select * from ranked where version_rank = 1
