-- Roles of SPEC 6, created idempotently; login roles get passwords from the environment
-- (LUMBUNG_<ROLE>_PASSWORD) in Python, never from this file.
do $$
declare
    r record;
begin
    for r in select * from (values
        ('lumbung_loader', false), ('lumbung_transformer', false),
        ('bi_reader', true), ('auditor', true), ('ops_reader', true)) as t(name, can_login)
    loop
        if not exists (select from pg_roles where rolname = r.name) then
            execute format('create role %I %s', r.name,
                           case when r.can_login then 'login' else 'nologin' end);
        end if;
    end loop;
end
$$;

-- nobody but the owner reaches a schema unless granted below
revoke all on schema raw, quarantine, audit, staging, intermediate, snapshots, marts, pii
    from public;
revoke create on schema public from public;

-- loader: writes raw, quarantine, audit
grant usage on schema raw, quarantine, audit to lumbung_loader;
grant usage, select, update on sequence audit.load_id_seq to lumbung_loader;

-- transformer (dbt): reads raw, writes the modelled schemas, records runs and validations
grant usage on schema raw, audit to lumbung_transformer;
grant usage, create on schema staging, intermediate, snapshots, marts, pii
    to lumbung_transformer;

-- readers
grant usage on schema marts to bi_reader;
grant usage on schema audit, quarantine, marts to auditor;
grant usage on schema pii to ops_reader;

-- tables dbt creates later are readable by the right readers from the start
alter default privileges in schema marts grant select on tables to bi_reader, auditor;
alter default privileges in schema pii grant select on tables to ops_reader;
alter default privileges for role lumbung_transformer in schema marts
    grant select on tables to bi_reader, auditor;
alter default privileges for role lumbung_transformer in schema pii
    grant select on tables to ops_reader;

grant select, insert, update on audit.loads to lumbung_loader;
grant select, insert on audit.contract_versions to lumbung_loader;
grant select on all tables in schema audit to auditor;
alter default privileges in schema audit grant select on tables to auditor;
