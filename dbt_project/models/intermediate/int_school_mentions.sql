-- Every school a counting row names, with the regency it is in where the row says so, and how
-- many rows name it so (PMM comes counted per snapshot and load; the other sources row by row).
with cohorts as (

    select school_key, npsn, school_name, regency_code, jenjang, 1::bigint as mentions
    from {{ ref('int_cohorts__current') }}

),

trainings as (

    -- the event's regency is not the school's: left empty
    select school_key, participant_npsn as npsn, participant_school as school_name,
           null::text as regency_code, null::text as jenjang,
           1::bigint as mentions
    from {{ ref('int_trainings__current') }}
    where school_key is not null

),

pmm as (

    select school_key, npsn, school_name, regency_code, jenjang, mentions
    from {{ ref('int_pmm_school_snapshots') }}

),

alumni as (

    select school_key, npsn, school_name, regency_code, 'SMK'::text as jenjang,
           1::bigint as mentions
    from {{ ref('int_alumni_surveys__current') }}

)

select * from cohorts
union all select * from trainings
union all select * from pmm
union all select * from alumni
