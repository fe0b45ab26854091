-- Release gates, evaluation reports, archived versions and API keys.

-- The gate config declared for a model (lib/evaluation GateConfig); null means the default for its task.
alter table registered_models add column gate_config jsonb;
alter table registered_models add column gate_config_updated_by text;
alter table registered_models add column gate_config_updated_at timestamptz;

-- One gate evaluation per version: the report the approver reads, and whether the gates passed.
create table release_evaluations (
  model_name text not null,
  version integer not null,
  passed boolean not null,
  gate_config jsonb not null,
  gate_report jsonb not null,
  metrics jsonb not null,
  report_uri text not null,
  champion_version integer,
  evaluated_at timestamptz not null,
  primary key (model_name, version),
  foreign key (model_name, version) references model_versions(model_name, version)
);

-- Archived versions stay in the registry (lineage, history) but no alias may point at them.
alter table model_versions add column archived_at timestamptz;
alter table model_versions add column archived_by text;

-- API keys: only the sha256 of the secret is stored; the prefix identifies a key in listings and logs.
create table api_keys (
  id text primary key,
  name text not null,
  prefix text not null,
  key_hash text not null unique,
  roles text[] not null,
  created_by text,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  last_used_at timestamptz
);
