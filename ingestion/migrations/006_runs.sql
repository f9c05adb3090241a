-- One row per `lumbung run`, `transform` or `demo` and per build_marts DAG run (SPEC 7, 8):
-- when, what, the outcome, and which loads it reports (every load is reported by the first run
-- that starts after it). The auditor report is rendered from these rows, audit.loads,
-- quarantine, audit.validation_results and audit.dbt_results, never from a run's memory.
create table if not exists audit.runs (
    run_id        bigserial primary key,
    kind          text not null check (kind in ('run', 'transform', 'demo', 'dag')),
    name          text not null unique,
    started_at    timestamptz not null default clock_timestamp(),
    finished_at   timestamptz,
    outcome       text check (outcome in ('success', 'failed')),
    load_ids      bigint[] not null default '{}',
    mart_rows     jsonb,
    report_path   text,
    started_by    text
);
comment on table audit.runs is
    'One row per run that builds the marts: what it reported, how it ended, where its report is.';
-- "which run reported load N" (`load_ids @> array[N]`) stays an index lookup as runs pile up
create index if not exists runs_load_ids on audit.runs using gin (load_ids);

-- dbt's result for every node a run built or tested (from dbtRunner, or from each Cosmos task)
create table if not exists audit.dbt_results (
    run_id         bigint not null references audit.runs (run_id),
    unique_id      text not null,
    name           text not null,
    resource_type  text not null,
    status         text not null,
    message        text,
    elapsed_s      double precision,
    recorded_at    timestamptz not null default clock_timestamp(),
    primary key (run_id, unique_id)
);

do $$
begin
    if not exists (select from pg_constraint where conname = 'validation_results_run_fk') then
        alter table audit.validation_results add constraint validation_results_run_fk
            foreign key (run_id) references audit.runs (run_id);
    end if;
end $$;

grant select, insert, update on audit.runs, audit.dbt_results
    to lumbung_loader, lumbung_transformer;
grant usage on sequence audit.runs_run_id_seq to lumbung_loader, lumbung_transformer;
grant select on audit.runs, audit.dbt_results to auditor;
