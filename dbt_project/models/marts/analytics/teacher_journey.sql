-- SPEC 6: one row per teacher_key with a row that counts in any source.
with participation as (

    select * from {{ ref('fct_cohort_participation') }} where teacher_key is not null

),

attendance as (

    select * from {{ ref('fct_training_attendance') }} where teacher_key is not null

),

progress as (

    -- PMM per (snapshot, load, teacher, school, regency), a sixth of fct_pmm_progress's rows
    select * from {{ ref('int_pmm_teacher_snapshots') }}

),

teachers as (

    select teacher_key from participation
    union
    select teacher_key from attendance
    union
    select teacher_key from progress

),

penggerak as (

    select
        teacher_key,
        bool_or(programme = 'guru_penggerak' and role = 'cgp' and status = 'lulus')
            as is_guru_penggerak,
        min(cohort) filter (where programme = 'guru_penggerak') as first_cohort
    from participation
    group by teacher_key

),

trainings as (

    select
        teacher_key,
        count(distinct event_code)::integer as trainings_attended,
        coalesce(sum(jp), 0)::integer as total_jp
    from attendance
    where attended = 'hadir' and participant_role = 'peserta'
    group by teacher_key

),

latest_snapshot as (

    select teacher_key, max(snapshot_date) as latest_pmm_snapshot_date
    from progress
    group by teacher_key

),

pmm as (

    select
        latest_snapshot.teacher_key,
        latest_snapshot.latest_pmm_snapshot_date,
        sum(progress.topics_completed)::integer as pmm_topics_completed
    from latest_snapshot
    inner join progress
        on progress.teacher_key = latest_snapshot.teacher_key
        and progress.snapshot_date = latest_snapshot.latest_pmm_snapshot_date
    group by latest_snapshot.teacher_key, latest_snapshot.latest_pmm_snapshot_date

)

select
    teachers.teacher_key,
    coalesce(penggerak.is_guru_penggerak, false) as is_guru_penggerak,
    penggerak.first_cohort,
    coalesce(trainings.trainings_attended, 0) as trainings_attended,
    coalesce(trainings.total_jp, 0) as total_jp,
    pmm.latest_pmm_snapshot_date,
    pmm.pmm_topics_completed
from teachers
left join penggerak on penggerak.teacher_key = teachers.teacher_key
left join trainings on trainings.teacher_key = teachers.teacher_key
left join pmm on pmm.teacher_key = teachers.teacher_key
