-- Per view and entity, a digest of the source rows its online value was computed from. A
-- materialization recomputes exactly the entities whose digest changed (new rows, late rows at or
-- before the watermark, rows that disappeared), whatever the new source version's lineage.
create table if not exists feature_entity_digests (
  view_name text not null references feature_views (name) on delete cascade,
  entity_id text not null,
  digest bytea not null,
  primary key (view_name, entity_id)
);

alter table feature_materializations add column if not exists full_run boolean not null default false;
alter table feature_materializations add column if not exists entities_removed integer not null default 0;
