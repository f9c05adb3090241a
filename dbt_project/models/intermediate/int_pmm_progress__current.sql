-- PMM rows that count: latest counting load per (nuptk, topic, snapshot_date).
with counting_rows as (

    {{ counting_rows('stg_pmm_progress') }}

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
