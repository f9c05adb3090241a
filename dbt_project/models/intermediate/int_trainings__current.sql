-- Attendance rows that count: latest counting load per (event_code, nuptk or name and npsn).
with counting_rows as (

    {{ counting_rows('stg_trainings') }}

),

counting as (

    select
        rows.*,
        coalesce(
            rows.nuptk, rows.participant_name || '|' || coalesce(rows.participant_npsn, '')
        ) as participant_identity,
        {{ school_key('rows.participant_npsn', 'rows.participant_school', 'null') }}
            as school_key
    from counting_rows as rows

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
