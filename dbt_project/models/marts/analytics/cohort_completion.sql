-- SPEC 6: one row per (programme, cohort, province_code, regency_code, role).
with participation as (

    select * from {{ ref('fct_cohort_participation') }}

),

counted as (

    select
        programme,
        cohort,
        province_code,
        regency_code,
        role,
        count(*)::integer as participants,
        (count(*) filter (where status = 'lulus'))::integer as graduated,
        (count(*) filter (where status = 'tidak_lulus'))::integer as not_graduated,
        (count(*) filter (where status = 'mengundurkan_diri'))::integer as withdrawn,
        (count(*) filter (where status = 'aktif'))::integer as in_progress
    from participation
    group by programme, cohort, province_code, regency_code, role

)

select
    *,
    graduated::double precision / nullif(participants - in_progress, 0) as completion_rate
from counted
