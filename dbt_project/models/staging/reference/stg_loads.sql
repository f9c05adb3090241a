with source as (

    -- the transformer may read these columns of audit.loads, no more
    select load_id, source, file_name, status, voided_at, replaced_by, finished_at
    from {{ source('audit', 'loads') }}

),

renamed as (

    select
        load_id,
        source,
        file_name,
        status,
        voided_at,
        replaced_by,
        finished_at,
        status = 'loaded' and voided_at is null and replaced_by is null as is_counting

    from source

)

select * from renamed
