-- Great Expectations results, one row per validated load (and, later, per mart validation of
-- a run): the verdict, GX's statistics, each expectation's outcome, the cross-check with the
-- normalisers, and the Data Docs page.
create table if not exists audit.validation_results (
    validation_id   bigserial primary key,
    kind            text not null check (kind in ('load', 'marts')),
    load_id         bigint references audit.loads (load_id),
    run_id          bigint,
    suite_name      text not null,
    success         boolean not null,
    statistics      jsonb not null,
    expectations    jsonb not null,
    cross_check     jsonb,
    data_docs_path  text,
    elapsed_s       double precision,
    validated_at    timestamptz not null default now(),
    constraint validation_results_of_a_load check ((kind = 'load') = (load_id is not null))
);
create unique index if not exists validation_results_one_per_load
    on audit.validation_results (load_id) where kind = 'load';

grant select, insert on audit.validation_results to lumbung_loader, lumbung_transformer;
grant usage on sequence audit.validation_results_validation_id_seq
    to lumbung_loader, lumbung_transformer;
grant select on audit.validation_results to auditor;
