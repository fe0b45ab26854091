-- Rollouts (workflows/rollout.ts): one row per recorded step or decision of a rollout, with its analysis.
-- Keyed by (rollout_id, run_id, seq) so a retried activity writes the same row once; a later rollout of the
-- same version (same workflow id, new run) gets its own rows.
create table rollout_steps (
  rollout_id text not null,
  run_id text not null,
  seq integer not null,
  model_name text not null,
  version integer not null,
  strategy text not null,
  kind text not null,
  percent real,
  verdict text,
  decision text not null,
  analysis jsonb,
  at timestamptz not null,
  primary key (rollout_id, run_id, seq)
);
create index rollout_steps_model on rollout_steps (model_name, at);
