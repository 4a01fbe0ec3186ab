#!/usr/bin/env bash
# Brings a failed (or demoted) old primary back as a standby of the new primary with pg_rewind,
# which copies only what diverged. Run as postgres on the old primary's host.
#
#   rejoin.sh --pgdata DIR --primary-host HOST [--primary-port 5432] [--cluster 15/main]
#             [--name standby1] [--replication-password-file FILE] [--no-start]
# If pg_rewind cannot (the WAL it needs is gone), rebuild with setup-standby.sh --force instead.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

HOST= PORT=5432 PGDATA= CLUSTER= NAME=standby1 PWFILE= START=1
while [ $# -gt 0 ]; do
  case "$1" in
    --primary-host) HOST=$2; shift 2 ;;
    --primary-port) PORT=$2; shift 2 ;;
    --pgdata) PGDATA=$2; shift 2 ;;
    --cluster) CLUSTER=$2; shift 2 ;;
    --name) NAME=$2; shift 2 ;;
    --replication-password-file) PWFILE=$2; shift 2 ;;
    --no-start) START=0; shift ;;
    *) die "unknown option $1" ;;
  esac
done
not_root
[ -n "$HOST" ] && [ -n "$PGDATA" ] || die "--primary-host and --pgdata are required"
[[ "$NAME" =~ ^[a-z0-9_]+$ ]] || die "--name must be lower-case letters, digits and _"
PGBIN=$(find_pgbin)
[ -z "$PWFILE" ] || export PGPASSWORD=$(head -n1 "$PWFILE")
source_conn="host=$HOST port=$PORT user=replicator dbname=postgres"

is_running && pg_stop
# pg_rewind wants a cleanly shut down target: after a crash, let it finish recovery first.
if ! "$PGBIN/pg_controldata" -D "$PGDATA" | grep -q 'shut down$'; then
  say "finishing crash recovery of $PGDATA first"
  "$PGBIN/postgres" --single -D "$PGDATA" -c config_file="${CONFDIR:-$PGDATA}/postgresql.conf" postgres </dev/null >/dev/null
fi

# A slot for this standby on the new primary (slots are not copied by replication).
psql -XAtq -v ON_ERROR_STOP=1 -d "$source_conn" -v slot="$NAME" <<'SQL' >/dev/null
SELECT pg_create_physical_replication_slot(:'slot')
 WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = :'slot');
SQL
# pg_rewind reads the new primary's timeline from its pg_control, written at a checkpoint
# (failover.sh takes one; this covers a promotion made another way).
psql -XAtq -d "$source_conn" -c CHECKPOINT >/dev/null 2>&1 ||
  say "could not CHECKPOINT the new primary (PG 15+: GRANT pg_checkpoint TO replicator)"

# pg_rewind copies the source's configuration files too: keep this server's own.
saved=$(mktemp -d)
for f in postgresql.conf postgresql.auto.conf pg_hba.conf pg_ident.conf enclave-replication.conf; do
  [ ! -f "$PGDATA/$f" ] || cp -p "$PGDATA/$f" "$saved/"
done
"$PGBIN/pg_rewind" --target-pgdata="$PGDATA" --source-server="$source_conn" --progress 2>&1 |
  tail -n 3
cp -p "$saved"/* "$PGDATA/" 2>/dev/null || true
rm -rf "$saved"
# What made it a standby before (if it ever was one) is replaced below.
sed -i -E '/^(primary_conninfo|primary_slot_name|synchronous_standby_names) /d' "$PGDATA/postgresql.auto.conf"
# Follow the new primary through the slot; never wait for standbys while we are one.
touch "$PGDATA/standby.signal"
{
  echo "primary_conninfo = $(quote_conninfo "host=$HOST port=$PORT user=replicator application_name=$NAME${PGPASSWORD:+ password=$PGPASSWORD}")"
  echo "primary_slot_name = '$NAME'"
  echo "synchronous_standby_names = ''"
} >> "$PGDATA/postgresql.auto.conf"

if [ "$START" = 1 ]; then pg_start; say "rejoined as standby $NAME of $HOST:$PORT"; fi
