-- Datasets: immutable, content-addressed versions; metadata here, bytes in the artifact store.
create table dataset_versions (
  id text primary key,
  name text not null,
  version integer not null,
  sha256 text not null,
  uri text not null,
  format text not null,
  row_count bigint not null,
  schema jsonb not null,
  source_uri text not null,
  created_at timestamptz not null default now(),
  unique (name, version),
  unique (name, sha256)
);

-- One row per training workflow run (the run id is the workflow id).
create table training_runs (
  id text primary key,
  model_name text not null,
  dataset_version_id text not null references dataset_versions(id),
  params jsonb not null,
  metrics jsonb not null default '{}',
  status text not null,
  started_by text,
  model_sha256 text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table registered_models (
  name text primary key,
  description text not null default '',
  created_at timestamptz not null default now()
);

create table model_versions (
  model_name text not null references registered_models(name),
  version integer not null,
  sha256 text not null,
  uri text not null,
  signature jsonb not null,
  metrics jsonb not null,
  params jsonb not null,
  training_run_id text unique references training_runs(id),
  dataset_version_id text references dataset_versions(id),
  created_by text,
  created_at timestamptz not null default now(),
  primary key (model_name, version)
);

-- Movable named pointers (MLflow's words): models:/name@alias.
create table model_aliases (
  model_name text not null,
  alias text not null,
  version integer not null,
  updated_at timestamptz not null default now(),
  primary key (model_name, alias),
  foreign key (model_name, version) references model_versions(model_name, version)
);

-- Every alias move, so "which version served production at time T, who put it there and why" has an answer.
create table alias_history (
  id bigserial primary key,
  model_name text not null,
  alias text not null,
  version integer not null,
  previous_version integer,
  actor text not null,
  reason text not null,
  source text not null,
  at timestamptz not null default now()
);
create index alias_history_lookup on alias_history (model_name, alias, at);
