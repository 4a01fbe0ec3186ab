#!/usr/bin/env bash
# Prepares a Postgres server to be Enclave's primary with streaming replication: replication
# settings (primary.conf), pg_hba entries (scram-sha-256), a `replicator` role allowed to stream
# and to serve pg_rewind. Idempotent. Run as the postgres user; the server must be running.
#
#   setup-primary.sh --pgdata DIR [--confdir DIR] [--cluster 15/main]
#                    --standby-network CIDR [--sync 'FIRST 1 (standby1)'] [--listen ADDR]
#                    [--replication-password-file FILE] [--restart]
# Connects to the local server with libpq's PGHOST/PGPORT (default: the Unix socket, port 5432).
# Debian/Ubuntu: --cluster 15/main --pgdata /var/lib/postgresql/15/main --confdir /etc/postgresql/15/main
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PGDATA= CONFDIR= CLUSTER= NETWORK= SYNC= LISTEN= PWFILE= RESTART=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pgdata) PGDATA=$2; shift 2 ;;
    --confdir) CONFDIR=$2; shift 2 ;;
    --cluster) CLUSTER=$2; shift 2 ;;
    --standby-network) NETWORK=$2; shift 2 ;;
    --sync) SYNC=$2; shift 2 ;;
    --listen) LISTEN=$2; shift 2 ;;
    --replication-password-file) PWFILE=$2; shift 2 ;;
    --restart) RESTART=1; shift ;;
    *) die "unknown option $1" ;;
  esac
done
not_root
[ -n "$PGDATA" ] || die "--pgdata DIR is required"
[ -n "$NETWORK" ] || die "--standby-network CIDR is required (the standbys' addresses)"
PGBIN=$(find_pgbin)
CONFDIR=${CONFDIR:-$PGDATA}
[ -f "$CONFDIR/postgresql.conf" ] || die "no postgresql.conf in $CONFDIR (use --confdir)"

# 1. Settings: our own file, included once from postgresql.conf.
{
  cat "$here/primary.conf"
  [ -n "$LISTEN" ] && echo "listen_addresses = '$LISTEN'"
  [ -n "$SYNC" ] && echo "synchronous_standby_names = '$SYNC'"
} > "$CONFDIR/enclave-replication.conf"
grep -q "^include_if_exists = 'enclave-replication.conf'" "$CONFDIR/postgresql.conf" ||
  echo "include_if_exists = 'enclave-replication.conf'" >> "$CONFDIR/postgresql.conf"

# 2. pg_hba: the replication lines, once.
hba=$(psql -XAtq -d postgres -c 'SHOW hba_file')
if ! grep -q '# enclave-replication' "$hba"; then
  { echo "# enclave-replication (deploy/postgres/pg_hba-replication.conf)"
    grep -v '^#' "$here/pg_hba-replication.conf" | sed "s#STANDBY_NETWORK#$NETWORK#"
  } >> "$hba"
fi

# 3. The replication role (a password from the file, or a new one printed once).
if [ -n "$PWFILE" ]; then
  password=$(head -n1 "$PWFILE")
else
  password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  say "replicator password (keep it for setup-standby.sh): $password"
fi
psql -XAtq -v ON_ERROR_STOP=1 -d postgres -v pw="$password" <<'SQL'
SELECT format('CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD %L', :'pw')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator') \gexec
SELECT format('ALTER ROLE replicator WITH REPLICATION LOGIN PASSWORD %L', :'pw') \gexec
-- What pg_rewind needs from its source, without making the role a superuser.
GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean) TO replicator;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO replicator;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) TO replicator;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO replicator;
SELECT 'GRANT pg_checkpoint TO replicator' WHERE current_setting('server_version_num')::int >= 150000 \gexec
SQL

# 4. wal_level and friends need a restart; pg_hba and the rest a reload.
if [ "$RESTART" = 1 ]; then
  pg_stop; pg_start; say "restarted"
else
  psql -XAtq -d postgres -c 'SELECT pg_reload_conf()' >/dev/null
  pending=$(psql -XAtq -d postgres -c "SELECT string_agg(name, ', ') FROM pg_settings WHERE pending_restart")
  [ -z "$pending" ] || say "restart Postgres to apply: $pending (or run again with --restart)"
fi
say "primary ready: standbys from $NETWORK may stream as replicator${SYNC:+; synchronous: $SYNC}"
