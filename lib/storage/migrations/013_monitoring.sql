-- Monitoring and the feedback loop: labels for logged predictions, training profiles per version,
-- per-model monitoring policies, stored reports, alerts, retraining triggers and retraining datasets.

-- One label per prediction; a later label replaces an earlier one and `updates` counts the replacements.
create table prediction_feedback (
  prediction_id uuid primary key,
  model_name text not null,
  version integer not null,
  label jsonb not null,
  received_at timestamptz not null default now(),
  updates integer not null default 0
);
create index prediction_feedback_model on prediction_feedback (model_name, received_at);

-- The training profile of a model version (lib/monitoring TrainingProfile), the reference drift compares against.
create table model_profiles (
  model_name text not null,
  version integer not null,
  profile jsonb not null,
  source text not null,
  reference_rows bigint not null,
  created_at timestamptz not null default now(),
  primary key (model_name, version)
);

-- What monitoring does for a model (lib/monitoring/policy.ts MonitoringPolicy).
create table monitoring_policies (
  model_name text primary key,
  policy jsonb not null,
  updated_at timestamptz not null default now()
);

-- One report per model and window end: a retried activity rewrites the same row.
create table monitoring_reports (
  id bigserial primary key,
  model_name text not null,
  version integer,
  window_start timestamptz not null,
  window_end timestamptz not null,
  drift_status text not null,
  status text not null,
  report jsonb not null,
  created_at timestamptz not null default now(),
  unique (model_name, window_end)
);
create index monitoring_reports_model on monitoring_reports (model_name, window_end desc);

-- Alerts raised by monitoring, keyed so a retried activity records (and posts) one alert once.
create table monitoring_alerts (
  id text primary key,
  model_name text not null,
  kind text not null,
  dedup_key text not null,
  severity text not null,
  summary text not null,
  payload jsonb not null,
  report_id bigint,
  created_at timestamptz not null default now(),
  delivered_at timestamptz,
  delivery_error text
);
create index monitoring_alerts_model on monitoring_alerts (model_name, created_at desc);

-- Every retraining trigger monitoring fired (or skipped), and the dataset versions built from feedback.
create table retraining_triggers (
  id text primary key,
  model_name text not null,
  reasons jsonb not null,
  workflow_id text,
  outcome text not null,
  at timestamptz not null default now()
);
create index retraining_triggers_model on retraining_triggers (model_name, at desc);

create table feedback_datasets (
  dataset_version_id text not null,
  model_name text not null,
  parent_dataset_version_id text,
  labelled_rows bigint not null,
  feedback_until timestamptz not null,
  retraining_workflow_id text not null,
  created_at timestamptz not null default now(),
  primary key (retraining_workflow_id)
);
