-- Keyed by npsn, or by folded school name and regency code where the npsn is missing (SPEC 6).
with mentions as (

    select * from {{ ref('int_school_mentions') }}

),

schools as (

    select
        school_key,
        max(npsn) as npsn,
        {{ most_frequent('school_name') }} as school_name,
        {{ most_frequent('regency_code') }} as regency_code,
        {{ most_frequent('jenjang') }} as jenjang
    from mentions
    where school_key is not null
    group by school_key

)

select * from schools
