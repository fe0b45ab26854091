-- The held-out rows each version is judged on by the release gates (an artifact URI).
alter table model_versions add column evaluation_uri text;
