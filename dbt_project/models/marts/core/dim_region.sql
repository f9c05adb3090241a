with regions as (

    select * from {{ ref('stg_regions') }}

)

select
    regency_code,
    regency_name,
    regency_short_name,
    regency_type,
    province_code,
    province_name
from regions
