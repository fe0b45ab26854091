-- Batch scoring from a Postgres query (beside a dataset version) into a Postgres table and/or an Arrow or
-- Parquet file. A run without a file output commits no part artifact: its part row is then only the progress
-- marker, written in the same transaction as the batch's rows in the output table.
alter table batch_scoring_runs alter column dataset_version_id drop not null;
alter table batch_scoring_runs add column source_query text;
alter table batch_scoring_runs add column output_table text;
alter table batch_scoring_runs add column output_file text check (output_file in ('arrow', 'parquet'));
update batch_scoring_runs set output_file = 'arrow';
alter table batch_scoring_runs add constraint batch_scoring_runs_one_source check ((dataset_version_id is null) <> (source_query is null));
alter table batch_scoring_parts alter column uri drop not null;
