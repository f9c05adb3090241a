-- SPEC 6: one row per (regency_code, month, event_type, mode): the event's regency, the first
-- day of its start month, the attendance mode. Only attendances (hadir, as peserta) count;
-- groups without one do not appear. Teachers are distinct by NUPTK, else by name and NPSN.
with attendance as (

    select * from {{ ref('int_trainings__current') }}
    where attended = 'hadir' and participant_role = 'peserta'

)

select
    regency_code,
    date_trunc('month', start_date)::date as month,
    event_type,
    mode,
    count(distinct event_code)::integer as events,
    count(*)::integer as attendances,
    count(distinct participant_id)::integer as unique_teachers,
    coalesce(sum(jp), 0)::integer as total_jp
from attendance
group by regency_code, date_trunc('month', start_date)::date, event_type, mode
