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
        _load_id,
        _source_file,
        _sheet,
        _row_number,
        _file_sha256,
        _loaded_at

    from source

)

select * from renamed
