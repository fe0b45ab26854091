-- Which feature views (and which of their source versions) a training frame was built from, so a
-- model version trained on the frame can name them in its lineage.
create table if not exists training_frame_views (
  dataset_version_id text not null references dataset_versions (id) on delete cascade,
  view_name text not null,
  -- sha256 of the canonical declaration; the registry version when it matched the registered one.
  view_sha256 text not null,
  view_version integer,
  source_dataset_version_id text not null references dataset_versions (id),
  primary key (dataset_version_id, view_name)
);
