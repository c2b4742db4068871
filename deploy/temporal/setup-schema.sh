#!/bin/sh
# The Temporal databases on PostgreSQL: each created when missing, given the base schema and
# brought up to the tool's newest version. Idempotent (a second run changes nothing). Run by
# docker-compose.yml's temporal-schema service (temporalio/admin-tools) and by `npm run cluster`
# (scripts/cluster/postgres.ts, with the SQL tool it built).
#   From temporal.env: DB (the SQL plugin), DBNAME, VISIBILITY_DBNAME, POSTGRES_USER.
#   POSTGRES_SEEDS, DB_PORT: the server; SQL_PASSWORD: its password (read by the tool).
#   SQL_TOOL: the tool (default temporal-sql-tool); SCHEMA_DIR: its PostgreSQL schema folder
#   (default the admin-tools image's /etc/temporal/schema/postgresql/v12).
set -eu
tool=${SQL_TOOL:-temporal-sql-tool}
schema=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}

sql() {
  "$tool" --plugin "$DB" --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" "$@"
}

for pair in "$DBNAME:temporal" "$VISIBILITY_DBNAME:visibility"; do
  database=${pair%%:*}
  kind=${pair#*:}
  echo "[temporal schema] $database ($kind)"
  sql --db "$database" create-database
  sql --db "$database" setup-schema -v 0.0
  sql --db "$database" update-schema -d "$schema/$kind/versioned"
done
