-- Each teacher's school and regency from their latest counting row in a source that states the
-- teacher's own regency (cohorts, PMM; a training's regency is the event's). Snapshotted into
-- dim_teacher (SCD type 2 on school and regency); the validity starts at that load's _loaded_at.
-- PMM rows come grouped per (snapshot, load, teacher, school, regency); within one load the
-- school and regency first in order win, so a rebuild picks the same.
with mentions as (

    select teacher_key, school_key, regency_code, _load_id, _loaded_at
    from {{ ref('int_cohorts__current') }}
    where teacher_key is not null
    union all
    select teacher_key, school_key, regency_code, _load_id, _loaded_at
    from {{ ref('int_pmm_teacher_snapshots') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by teacher_key
            order by _load_id desc, school_key, regency_code
        ) as recency
    from mentions

)

select teacher_key, school_key, regency_code, _load_id, _loaded_at
from ranked
where recency = 1
