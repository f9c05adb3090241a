-- What dbt (as lumbung_transformer) reads besides raw.<source>: which loads count, and the
-- official region reference that `lumbung warehouse init` loads from the package.
create table if not exists raw.ref_provinces (
    province_code  text primary key,
    province_name  text not null
);
create table if not exists raw.ref_regencies (
    regency_code   text primary key,
    province_code  text not null references raw.ref_provinces (province_code),
    regency_type   text not null check (regency_type in ('kabupaten', 'kota')),
    regency_name   text not null,
    official_name  text not null
);
create table if not exists audit.reference_versions (
    name        text primary key,
    sha256      text not null,
    loaded_at   timestamptz not null default now()
);
grant select on raw.ref_provinces, raw.ref_regencies to lumbung_transformer;
grant select (load_id, source, file_name, status, voided_at, replaced_by, finished_at)
    on audit.loads to lumbung_transformer;
