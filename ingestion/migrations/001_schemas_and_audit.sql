-- The schemas of SPEC 6 and the audit of every load (SPEC 4, 7).
create schema if not exists raw;
create schema if not exists quarantine;
create schema if not exists audit;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists snapshots;
create schema if not exists marts;
create schema if not exists pii;

create sequence if not exists audit.load_id_seq;

create table if not exists audit.loads (
    load_id           bigint primary key,
    source            text not null,
    file_name         text not null,
    file_path         text not null,
    sha256            text not null,
    status            text not null check (status in ('loaded', 'rejected', 'duplicate')),
    rows_read         integer not null default 0,
    rows_loaded       integer not null default 0,
    rows_quarantined  integer not null default 0,
    rows_skipped      integer not null default 0,
    reasons           jsonb not null default '{}'::jsonb,
    repairs           jsonb not null default '{}'::jsonb,
    sheets_read       jsonb not null default '[]'::jsonb,
    sheets_skipped    jsonb not null default '[]'::jsonb,
    contract_version  text not null,
    duplicate_of      bigint references audit.loads (load_id),
    replaces          bigint references audit.loads (load_id),
    replaced_by       bigint references audit.loads (load_id),
    voided_at         timestamptz,
    voided_by         text,
    void_reason       text,
    loaded_by         text,
    as_of             date,
    started_at        timestamptz not null,
    finished_at       timestamptz not null,
    error             text,
    constraint loads_reconcile check (rows_read = rows_loaded + rows_quarantined)
);
comment on table audit.loads is
    'One row per file given to a load: what it was, what became of it, and why.';

-- The same bytes load once per source: a second copy is a `duplicate` (SPEC 4).
create unique index if not exists loads_loaded_bytes_once
    on audit.loads (source, sha256) where status = 'loaded';
create index if not exists loads_source_sha on audit.loads (source, sha256);

create table if not exists audit.contract_versions (
    source            text not null,
    contract_version  text not null,
    contract          jsonb not null,
    first_seen_at     timestamptz not null default now(),
    primary key (source, contract_version)
);
