-- Who may approve a model's releases (and its reminder/deadline defaults), declared per model.
alter table registered_models
  add column approval_policy jsonb,
  add column approval_policy_updated_by text,
  add column approval_policy_updated_at timestamptz;
