{{ pmm_snapshot_table_config() }}
-- depends_on: {{ ref('stg_pmm_progress') }}
-- depends_on: {{ ref('stg_loads') }}
-- depends_on: {{ ref('int_pmm_snapshot_loads') }}
-- PMM rows that count: latest counting load per (nuptk, topic, snapshot_date). A table kept
-- per snapshot date (macros/pmm_incremental.sql), so the fact and the per-date aggregates read
-- stored rows instead of ranking (and keying, with a regex) every row ever loaded.
with counting_rows as (

    {{ counting_rows('stg_pmm_progress') }}
    {{ pmm_changed_dates_only('rows.snapshot_date', load_column='rows._load_id') }}

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

select *, {{ built_at() }} as _built_at from ranked where version_rank = 1
