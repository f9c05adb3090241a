with source as (

    select * from {{ source('trainings', 'trainings') }}

),

renamed as (

    select
        -- ids and keys
        event_code,
        organizer_npsn,
        nuptk,
        teacher_key,
        participant_npsn,

        -- values
        event_title,
        event_type,
        theme,
        organizer,
        start_date,
        end_date,
        participant_name,
        participant_role,
        participant_school,
        mode,
        attended,
        jp,

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
