#!/usr/bin/env bash
# Patroni's post_bootstrap hook: once, on the first leader, creates Enclave's role and database.
#   post-bootstrap.sh SECRETS_FILE APP_USER APP_DATABASE CONNSTRING   (Patroni appends CONNSTRING)
set -euo pipefail
secrets=$1 user=$2 database=$3 conn=$4
# shellcheck disable=SC1090
. "$secrets"
psql -XAtq -v ON_ERROR_STOP=1 -v user="$user" -v pw="$APP_PASSWORD" -d "$conn" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'user', :'pw') \gexec
SQL
psql -XAtq -v ON_ERROR_STOP=1 -d "$conn" -c "CREATE DATABASE \"$database\" OWNER \"$user\""
