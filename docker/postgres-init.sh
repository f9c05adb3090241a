#!/bin/bash
# First start of the `postgres` service (Airflow's metadata server): a database for Metabase's
# own application data beside Airflow's. Runs once, from /docker-entrypoint-initdb.d.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -v pw="$METABASE_DB_PASSWORD" \
     --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
create role metabase login password :'pw';
create database metabase owner metabase;
SQL
