-- Named follow-up list (SPEC 6, restricted to ops_reader): at each teacher's latest PMM
-- snapshot, the topics not yet completed (all modules done and Aksi Nyata tervalidasi).
with progress as (

    select * from {{ ref('int_pmm_progress__current') }}

),

latest as (

    select
        *,
        max(snapshot_date) over (partition by nuptk) as latest_snapshot_date
    from progress

)

select
    nuptk,
    teacher_name,
    email,
    npsn,
    school_name,
    regency_code,
    snapshot_date,
    topic_code,
    topic,
    modules_completed,
    modules_total,
    aksi_nyata_status,
    _load_id,
    _source_file,
    _sheet,
    _row_number
from latest
where snapshot_date = latest_snapshot_date
  and not (modules_completed = modules_total and aksi_nyata_status = 'tervalidasi')
