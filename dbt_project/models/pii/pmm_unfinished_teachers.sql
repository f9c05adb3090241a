-- Named follow-up list (SPEC 6, restricted to ops_reader): at each teacher's latest PMM
-- snapshot, the topics not yet completed (all modules done and Aksi Nyata tervalidasi).
with latest as (

    select teacher_key, max(snapshot_date) as latest_snapshot_date
    from {{ ref('int_pmm_teacher_snapshots') }}
    group by teacher_key

),

progress as (

    -- only the snapshot dates that are someone's latest, as literals: an index scan of those
    select * from {{ ref('int_pmm_progress__current') }}
    where snapshot_date in ({{ date_literals(
        "select distinct latest_snapshot_date from (select max(snapshot_date) as "
        ~ "latest_snapshot_date from " ~ ref('int_pmm_teacher_snapshots')
        ~ " group by teacher_key) as latest") }})

)

select
    progress.nuptk,
    progress.teacher_name,
    progress.email,
    progress.npsn,
    progress.school_name,
    progress.regency_code,
    progress.snapshot_date,
    progress.topic_code,
    progress.topic,
    progress.modules_completed,
    progress.modules_total,
    progress.aksi_nyata_status,
    progress._load_id,
    progress._source_file,
    progress._sheet,
    progress._row_number
from progress
inner join latest
    on latest.teacher_key = progress.teacher_key
    and latest.latest_snapshot_date = progress.snapshot_date
where not {{ pmm_is_completed('progress.modules_completed', 'progress.modules_total',
                              'progress.aksi_nyata_status') }}
