with source as (

    select * from {{ source('alumni_surveys', 'alumni_surveys') }}

),

renamed as (

    select
        -- ids and keys
        nisn,
        alumni_key,
        npsn,

        -- values
        alumni_name,
        school_name,
        competency,
        graduation_year,
        survey_date,
        status,
        aligned,
        employer,
        sector,
        wait_months,
        income_band,

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
