-- Online serving state per model: which versions take traffic on which arm. Changed only through
-- lib/serving/deployments.ts, which bumps `generation` and NOTIFYs `mlcycle_deployments` in the same transaction.
create sequence deployment_generation;

create table deployments (
  model_name text primary key references registered_models(name),
  stable_version integer not null,
  canary_version integer,
  canary_percent real not null default 0 check (canary_percent >= 0 and canary_percent <= 100),
  shadow_version integer,
  shadow_fraction real not null default 0 check (shadow_fraction >= 0 and shadow_fraction <= 1),
  -- Scores a request when the routed version fails or times out: declared, or the previous stable.
  fallback_version integer,
  generation bigint not null,
  updated_by text not null,
  reason text not null,
  source text not null,
  updated_at timestamptz not null default now(),
  foreign key (model_name, stable_version) references model_versions (model_name, version),
  foreign key (model_name, canary_version) references model_versions (model_name, version),
  foreign key (model_name, shadow_version) references model_versions (model_name, version),
  foreign key (model_name, fallback_version) references model_versions (model_name, version),
  check (canary_version is not null or canary_percent = 0),
  check (shadow_version is not null or shadow_fraction = 0)
);

-- Every change, with the full state after it: the deployment history.
create table deployment_history (
  id bigserial primary key,
  model_name text not null,
  generation bigint not null,
  state jsonb not null,
  actor text not null,
  reason text not null,
  source text not null,
  at timestamptz not null default now()
);
create index deployment_history_model on deployment_history (model_name, id);

-- The prediction log learns which request a row answered (a shadow row shares its request's id) and how:
-- `ok`, `error` (the routed version failed; outputs hold the error) or `fallback` (answered by the fallback version).
alter table predictions add column request_id uuid;
alter table predictions add column status text not null default 'ok';
create index predictions_model_arm_time on predictions (model_name, version, at);
