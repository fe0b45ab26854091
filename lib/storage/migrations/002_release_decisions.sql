-- Every release decision (approved or not), with who, why, when and through which channel.
create table release_decisions (
  release_id text primary key,
  training_run_id text references training_runs(id),
  model_name text not null,
  version integer not null,
  approved boolean not null,
  approver text not null,
  reason text not null,
  via text not null,
  decided_at timestamptz not null,
  foreign key (model_name, version) references model_versions(model_name, version)
);
