-- Runs once, when the postgres volume is first initialised (/docker-entrypoint-initdb.d),
-- as the superuser named by POSTGRES_USER in docker-compose.yml.
-- Temporal's auto-setup creates and migrates its own databases (temporal, temporal_visibility);
-- mlcycle gets its own role and database on the same server, so neither touches the other's tables.
-- To change the password, change it here and in DATABASE_URL in docker-compose.yml, then recreate
-- the postgres volume (this script does not run again on an initialised volume).
CREATE ROLE mlcycle LOGIN PASSWORD 'mlcycle';
CREATE DATABASE mlcycle OWNER mlcycle;
REVOKE ALL ON DATABASE mlcycle FROM PUBLIC;
