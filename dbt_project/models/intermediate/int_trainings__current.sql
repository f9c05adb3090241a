-- Attendance rows that count: latest counting load per (event_code, nuptk or name and npsn).
with rows as (

    select * from {{ ref('stg_trainings') }}

),

loads as (

    select load_id from {{ ref('stg_loads') }} where is_counting

),

counting as (

    select
        rows.*,
        coalesce(
            rows.nuptk, rows.participant_name || '|' || coalesce(rows.participant_npsn, '')
        ) as participant_identity,
        {{ school_key('rows.participant_npsn', 'rows.participant_school', 'null') }}
            as school_key
    from rows
    inner join loads on loads.load_id = rows._load_id

),

ranked as (

    select
        *,
        -- a participant without a NUPTK is counted by name and NPSN, never joined across
        -- sources: this identity stays in intermediate, marts see counts only
        md5(participant_identity) as participant_id,
        row_number() over (
            partition by event_code, participant_identity
            order by _load_id desc
        ) as version_rank
    from counting

)

select * from ranked where version_rank = 1
