with participation as (

    select * from {{ ref('int_cohorts__current') }}

),

cohorts as (

    select
        programme || ':' || cohort as programme_cohort_key,
        programme,
        case programme
            when 'guru_penggerak' then 'Program Guru Penggerak'
            when 'sekolah_penggerak' then 'Program Sekolah Penggerak'
        end as programme_name,
        cohort::integer as cohort,
        min(start_date) as first_start_date,
        max(end_date) as last_end_date
    from participation
    group by programme, cohort

)

select * from cohorts
