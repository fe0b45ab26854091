-- Feature store: the registry of feature view declarations, the online table (latest values per
-- view and entity) and one row per materialization run with its watermark.
create table if not exists feature_views (
  name text primary key,
  declaration jsonb not null,
  sha256 text not null,
  version integer not null default 1,
  owner text not null,
  -- The newest source event time already materialized, and the dataset version it came from.
  watermark timestamptz,
  watermark_dataset_version_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists feature_online (
  view_name text not null references feature_views (name) on delete cascade,
  entity_id text not null,
  feature_values jsonb not null,
  event_time timestamptz not null,
  materialized_at timestamptz not null default now(),
  primary key (view_name, entity_id)
);

create table if not exists feature_materializations (
  id text primary key,
  view_name text not null references feature_views (name) on delete cascade,
  dataset_version_id text not null,
  previous_watermark timestamptz,
  watermark timestamptz,
  entities_upserted integer not null default 0,
  status text not null,
  started_at timestamptz not null default now(),
  finished_at timestamptz
);
create index if not exists feature_materializations_view on feature_materializations (view_name, started_at desc);
