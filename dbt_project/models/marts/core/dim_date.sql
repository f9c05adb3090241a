with days as (

    select day::date as date_day
    from generate_series('2000-01-01'::date, '2035-12-31'::date, interval '1 day') as day

),

described as (

    select
        date_day,
        extract(year from date_day)::integer as year,
        extract(quarter from date_day)::integer as quarter,
        extract(month from date_day)::integer as month,
        date_trunc('month', date_day)::date as month_start_date,
        extract(isodow from date_day)::integer as iso_weekday,
        (array['Januari', 'Februari', 'Maret', 'April', 'Mei', 'Juni', 'Juli', 'Agustus',
               'September', 'Oktober', 'November', 'Desember'])[extract(month from date_day)]
            as nama_bulan,
        (array['Senin', 'Selasa', 'Rabu', 'Kamis', 'Jumat', 'Sabtu', 'Minggu'])[
            extract(isodow from date_day)] as nama_hari
    from days

)

select * from described
