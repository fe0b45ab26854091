-- Experiment tracking: experiments group runs (a training run and its search trials); runs carry params,
-- final metrics, tags, artifacts and lineage; per-iteration curves live in run_metric_steps.
create table experiments (
  name text primary key,
  created_at timestamptz not null default now()
);

create table experiment_runs (
  id text primary key,
  experiment text not null references experiments(name),
  -- 'training' for a pipeline run, 'trial' for one hyperparameter-search trial of it.
  kind text not null,
  parent_run_id text,
  model_name text not null,
  learner text not null,
  status text not null,
  params jsonb not null default '{}',
  metrics jsonb not null default '{}',
  tags jsonb not null default '{}',
  artifacts jsonb not null default '{}',
  lineage jsonb not null default '{}',
  started_at timestamptz not null default now(),
  finished_at timestamptz
);
create index experiment_runs_by_experiment on experiment_runs (experiment, started_at);
create index experiment_runs_by_parent on experiment_runs (parent_run_id);

create table run_metric_steps (
  run_id text not null references experiment_runs(id) on delete cascade,
  key text not null,
  step integer not null,
  value double precision not null,
  primary key (run_id, key, step)
);
