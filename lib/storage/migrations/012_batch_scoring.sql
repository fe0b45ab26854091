-- Batch scoring runs (one per batchScoringWorkflow, keyed by its workflow id) and the parts they commit:
-- one scored Arrow IPC artifact per input batch, so a retried or restarted run resumes after the last
-- committed batch and the final artifact is assembled from exactly one part per batch.
create table batch_scoring_runs (
  id text primary key,
  model_name text not null,
  -- The version scored: named by the caller, or what the alias pointed to when the run was planned.
  model_version integer,
  model_alias text,
  dataset_version_id text not null,
  key_columns text[] not null default '{}',
  batch_rows integer not null,
  batches integer,
  rows bigint,
  status text not null check (status in ('running', 'completed', 'failed')),
  result_uri text,
  result_sha256 text,
  error text,
  requested_by text,
  started_at timestamptz not null default now(),
  finished_at timestamptz
);
create index batch_scoring_runs_model on batch_scoring_runs (model_name, started_at);

create table batch_scoring_parts (
  run_id text not null references batch_scoring_runs (id) on delete cascade,
  batch_index integer not null,
  uri text not null,
  rows integer not null,
  committed_at timestamptz not null default now(),
  primary key (run_id, batch_index)
);
