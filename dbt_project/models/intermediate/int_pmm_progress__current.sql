-- PMM rows that count: latest counting load per (nuptk, topic, snapshot_date).
with rows as (

    select * from {{ ref('stg_pmm_progress') }}

),

loads as (

    select load_id from {{ ref('stg_loads') }} where is_counting

),

counting as (

    select
        rows.*,
        {{ school_key('rows.npsn', 'rows.school_name', 'rows.regency_code') }} as school_key
    from rows
    inner join loads on loads.load_id = rows._load_id

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
