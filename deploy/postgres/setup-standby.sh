#!/usr/bin/env bash
# Makes a new standby: copies the primary with pg_basebackup -R through a replication slot of its
# own (so the primary keeps the WAL it has not received yet), then starts it. Run as postgres.
#
#   setup-standby.sh --primary-host HOST [--primary-port 5432] --pgdata DIR [--cluster 15/main]
#                    [--name standby1] [--replication-password-file FILE] [--port N]
#                    [--force] [--no-start]
# --name is the slot name and the application_name that synchronous_standby_names refers to.
# --port: this server's own port when it differs from the primary's (several clusters on a host).
# --force empties a non-empty DIR first (an old copy, or a failed primary past pg_rewind).
# Debian/Ubuntu: pg_createcluster 15 main first, then --cluster 15/main --pgdata /var/lib/postgresql/15/main
# (the cluster's configuration in /etc/postgresql stays; copy enclave-replication.conf there too).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

HOST= PORT=5432 PGDATA= CLUSTER= NAME=standby1 PWFILE= FORCE=0 START=1 OWN_PORT=
while [ $# -gt 0 ]; do
  case "$1" in
    --primary-host) HOST=$2; shift 2 ;;
    --primary-port) PORT=$2; shift 2 ;;
    --pgdata) PGDATA=$2; shift 2 ;;
    --cluster) CLUSTER=$2; shift 2 ;;
    --name) NAME=$2; shift 2 ;;
    --replication-password-file) PWFILE=$2; shift 2 ;;
    --port) OWN_PORT=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    --no-start) START=0; shift ;;
    *) die "unknown option $1" ;;
  esac
done
not_root
[ -n "$HOST" ] && [ -n "$PGDATA" ] || die "--primary-host and --pgdata are required"
[[ "$NAME" =~ ^[a-z0-9_]+$ ]] || die "--name must be lower-case letters, digits and _ (it names a slot)"
PGBIN=$(find_pgbin)
[ -z "$PWFILE" ] || export PGPASSWORD=$(head -n1 "$PWFILE")

if [ -d "$PGDATA" ] && [ -n "$(ls -A "$PGDATA")" ]; then
  [ "$FORCE" = 1 ] || die "$PGDATA is not empty (use --force to replace it)"
  is_running && pg_stop
  find "$PGDATA" -mindepth 1 -delete
fi
mkdir -p "$PGDATA" && chmod 700 "$PGDATA"

conn="host=$HOST port=$PORT user=replicator application_name=$NAME"
# The slot may be left from an earlier standby of this name: reuse it then.
if ! "$PGBIN/pg_basebackup" -d "$conn" -D "$PGDATA" -R -X stream -c fast -S "$NAME" -C 2>/tmp/basebackup.$$; then
  if grep -q 'already exists' /tmp/basebackup.$$; then
    find "$PGDATA" -mindepth 1 -delete
    "$PGBIN/pg_basebackup" -d "$conn" -D "$PGDATA" -R -X stream -c fast -S "$NAME"
  else
    cat /tmp/basebackup.$$ >&2; rm -f /tmp/basebackup.$$; die "pg_basebackup failed"
  fi
fi
rm -f /tmp/basebackup.$$
# A standby copied from a synchronous primary must not wait for standbys itself once promoted.
echo "synchronous_standby_names = ''" >> "$PGDATA/postgresql.auto.conf"
[ -z "$OWN_PORT" ] || echo "port = $OWN_PORT" >> "$PGDATA/postgresql.auto.conf"

if [ "$START" = 1 ]; then pg_start; say "standby $NAME streaming from $HOST:$PORT"; fi
