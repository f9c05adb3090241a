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
        {{ lineage_columns() }}

    from source

)

select * from renamed
