-- The columns of each sheet in the file's own order ({"sheet": ["No", "Nama", ...]}, "" for
-- csv): quarantine keeps original cells as jsonb, which does not keep key order, and a
-- corrections workbook must show the school its own layout.
alter table audit.loads add column if not exists headers jsonb not null default '{}'::jsonb;
