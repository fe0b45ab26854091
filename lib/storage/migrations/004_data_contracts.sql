-- Data layer: versioned data contracts, ingestion runs with their reports, quarantined rows,
-- and lineage plus a quality profile on every dataset version.
create table data_contracts (
  dataset_name text not null,
  version integer not null,
  contract jsonb not null,
  sha256 text not null,
  created_at timestamptz not null default now(),
  primary key (dataset_name, version),
  unique (dataset_name, sha256)
);

-- One row per ingestion run (the run id is the workflow id); a failed run keeps its report here.
create table ingestion_runs (
  id text primary key,
  dataset_name text not null,
  source_uri text not null,
  contract_version integer,
  mode text not null,
  status text not null,
  report jsonb,
  error text,
  dataset_version_id text references dataset_versions(id),
  started_at timestamptz not null default now(),
  finished_at timestamptz
);
create index ingestion_runs_by_name on ingestion_runs (dataset_name, started_at desc);

-- Rows that broke a contract check (error: left out of the version; warn: kept and listed).
create table dataset_quarantine (
  run_id text not null references ingestion_runs(id) on delete cascade,
  seq integer not null,
  row_number bigint not null,
  column_name text,
  value text,
  check_name text not null,
  severity text not null,
  reason text not null,
  primary key (run_id, seq)
);

alter table dataset_versions add column contract_version integer;
alter table dataset_versions add column parent_ids text[] not null default '{}';
alter table dataset_versions add column ingestion_run_id text;
alter table dataset_versions add column lineage jsonb;
alter table dataset_versions add column profile jsonb;
