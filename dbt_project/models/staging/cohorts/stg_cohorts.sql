with source as (

    select * from {{ source('cohorts', 'cohorts') }}

),

renamed as (

    select
        -- ids and keys
        nuptk,
        teacher_key,
        nik,
        npsn,

        -- values
        programme,
        cohort,
        participant_name,
        role,
        school_name,
        jenjang,
        gender,
        status,
        start_date,
        end_date,

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
