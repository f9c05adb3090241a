with regencies as (

    select * from {{ source('reference', 'ref_regencies') }}

),

provinces as (

    select * from {{ source('reference', 'ref_provinces') }}

),

joined as (

    select
        -- ids
        regencies.regency_code,
        regencies.province_code,

        -- names
        regencies.official_name as regency_name,
        regencies.regency_name as regency_short_name,
        regencies.regency_type,
        provinces.province_name

    from regencies
    inner join provinces on provinces.province_code = regencies.province_code

)

select * from joined
