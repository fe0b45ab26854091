-- How a model is served beyond its versions (lib/serving/serving-config.ts): which feature views fill rows
-- that name an entity, the post-processing of answers, and a default answer when no version can answer.
alter table registered_models
  add column serving_config jsonb,
  add column serving_config_updated_by text,
  add column serving_config_updated_at timestamptz;

-- A rollout's promotion decision (approve / reject before the last canary step): who, why, when, how.
alter table rollout_steps add column approval jsonb;
