-- SPEC 6: one row per (npsn, graduation_year, competency), from each graduate's latest survey.
with outcomes as (

    select * from {{ ref('fct_alumni_outcome') }}

),

competencies as (

    select * from {{ ref('dim_competency') }}

),

counted as (

    select
        outcomes.npsn,
        outcomes.graduation_year,
        outcomes.competency_key,
        count(*)::integer as alumni_surveyed,
        (count(*) filter (where status = 'bekerja'))::integer as bekerja,
        (count(*) filter (where status = 'melanjutkan'))::integer as melanjutkan,
        (count(*) filter (where status = 'wirausaha'))::integer as wirausaha,
        (count(*) filter (where status = 'belum_bekerja'))::integer as belum_bekerja,
        count(*) filter (
            where status in ('bekerja', 'melanjutkan', 'wirausaha') and aligned = 'ya'
        ) as aligned_yes,
        count(*) filter (
            where status in ('bekerja', 'melanjutkan', 'wirausaha') and aligned is not null
        ) as aligned_known,
        percentile_cont(0.5) within group (order by wait_months) filter (
            where status in ('bekerja', 'wirausaha') and wait_months is not null
        ) as median_wait_months
    from outcomes
    group by outcomes.npsn, outcomes.graduation_year, outcomes.competency_key

)

select
    counted.npsn,
    counted.graduation_year,
    counted.competency_key,
    competencies.competency_name as competency,
    counted.alumni_surveyed,
    counted.bekerja,
    counted.melanjutkan,
    counted.wirausaha,
    counted.belum_bekerja,
    (counted.bekerja + counted.melanjutkan + counted.wirausaha)::double precision
        / counted.alumni_surveyed as bmw_rate,
    counted.aligned_yes::double precision / nullif(counted.aligned_known, 0) as aligned_rate,
    counted.median_wait_months
from counted
inner join competencies on competencies.competency_key = counted.competency_key
