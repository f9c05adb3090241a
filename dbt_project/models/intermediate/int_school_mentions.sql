-- Every school a counting row names, with the regency it is in where the row says so.
with cohorts as (

    select school_key, npsn, school_name, regency_code, jenjang
    from {{ ref('int_cohorts__current') }}

),

trainings as (

    -- the event's regency is not the school's: left empty
    select school_key, participant_npsn as npsn, participant_school as school_name,
           null::text as regency_code, null::text as jenjang
    from {{ ref('int_trainings__current') }}
    where school_key is not null

),

pmm as (

    select school_key, npsn, school_name, regency_code, jenjang
    from {{ ref('int_pmm_progress__current') }}

),

alumni as (

    select school_key, npsn, school_name, regency_code, 'SMK'::text as jenjang
    from {{ ref('int_alumni_surveys__current') }}

)

select * from cohorts
union all select * from trainings
union all select * from pmm
union all select * from alumni
