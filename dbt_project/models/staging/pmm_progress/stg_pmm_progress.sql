with source as (

    select * from {{ source('pmm_progress', 'pmm_progress') }}

),

renamed as (

    select
        -- ids and keys
        nuptk,
        teacher_key,
        npsn,
        topic_code,

        -- values
        snapshot_date,
        teacher_name,
        email,
        school_name,
        jenjang,
        topic,
        modules_completed,
        modules_total,
        post_test_score,
        aksi_nyata_status,

        -- regions
        regency,
        regency_code,
        regency_match,
        province,
        province_code,

        -- lineage
        _load_id,
        _source_file,
        _sheet,
        _row_number,
        _file_sha256,
        _loaded_at

    from source

)

select * from renamed
