-- One row per event code; across loads, the latest load's description of the event wins.
with attendance as (

    select * from {{ ref('int_trainings__current') }}

),

ranked as (

    select
        *,
        row_number() over (partition by event_code order by _load_id desc, _row_number)
            as recency
    from attendance

)

select
    event_code,
    event_title,
    event_type,
    theme,
    organizer,
    organizer_npsn,
    start_date,
    end_date,
    regency_code,
    province_code
from ranked
where recency = 1
