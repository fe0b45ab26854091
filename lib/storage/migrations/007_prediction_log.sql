-- Every online prediction, for feedback joins, monitoring windows and audits. Written in batches (COPY).
create table predictions (
  id uuid primary key,
  at timestamptz not null,
  model_name text not null,
  version integer not null,
  arm text not null,
  inputs jsonb not null,
  outputs jsonb not null,
  latency_ms real not null
);
create index predictions_model_time on predictions (model_name, at);
