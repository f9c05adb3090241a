-- Keyed by npsn, or by folded school name and regency code where the npsn is missing (SPEC 6).
-- Name, regency and level: the most frequent over every row that names the school.
with mentions as (

    select * from {{ ref('int_school_mentions') }} where school_key is not null

),

schools as (

    select school_key, max(npsn) as npsn from mentions group by school_key

),

names as ({{ most_frequent_counted('mentions', 'school_key', 'school_name', 'mentions') }}),

regencies as ({{ most_frequent_counted('mentions', 'school_key', 'regency_code', 'mentions') }}),

levels as ({{ most_frequent_counted('mentions', 'school_key', 'jenjang', 'mentions') }})

select
    schools.school_key,
    schools.npsn,
    names.school_name,
    regencies.regency_code,
    levels.jenjang
from schools
left join names on names.school_key = schools.school_key
left join regencies on regencies.school_key = schools.school_key
left join levels on levels.school_key = schools.school_key
