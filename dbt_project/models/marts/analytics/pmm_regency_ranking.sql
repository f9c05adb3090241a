-- SPEC 6: one row per (snapshot_date, regency_code).
with progress as (

    -- per (snapshot, load, teacher, school, regency): topics, completed, summed module progress
    select * from {{ ref('int_pmm_teacher_snapshots') }}

),

regions as (

    select * from {{ ref('dim_region') }}

),

per_teacher as (

    select
        snapshot_date,
        regency_code,
        teacher_key,
        bool_or(topics_completed > 0) as completed_a_topic,
        sum(module_progress_sum) as module_progress_sum,
        sum(topics) as topics
    from progress
    group by snapshot_date, regency_code, teacher_key

),

per_regency as (

    select
        snapshot_date,
        regency_code,
        count(*)::integer as teachers,
        (count(*) filter (where completed_a_topic))::integer as teachers_completed,
        -- the mean over (teacher, topic) rows of modules_completed / modules_total
        (sum(module_progress_sum) / sum(topics))::double precision as avg_module_progress
    from per_teacher
    group by snapshot_date, regency_code

),

scored as (

    select
        regions.province_code,
        teachers.regency_code,
        regions.regency_name,
        teachers.snapshot_date,
        teachers.teachers,
        teachers.teachers_completed,
        teachers.teachers_completed::double precision / teachers.teachers as completion_rate,
        teachers.avg_module_progress
    from per_regency as teachers
    inner join regions on regions.regency_code = teachers.regency_code

),

ranked as (

    select
        *,
        row_number() over (
            partition by province_code, snapshot_date
            order by completion_rate desc, avg_module_progress desc, regency_code asc
        )::integer as rank_in_province
    from scored

),

with_previous as (

    select
        *,
        lag(rank_in_province) over (partition by regency_code order by snapshot_date)
            as previous_rank
    from ranked

)

select
    province_code,
    regency_code,
    regency_name,
    snapshot_date,
    teachers,
    teachers_completed,
    completion_rate,
    avg_module_progress,
    rank_in_province,
    previous_rank,
    previous_rank - rank_in_province as rank_change
from with_previous
