#!/usr/bin/env bash
# Fails over: promotes this standby to primary. Run as postgres on the standby's host, and only
# once the old primary is down or fenced (two primaries is split brain). Enclave's apps notice
# the promotion by themselves (DATABASE_URL lists every host; writes go to the primary).
#
#   failover.sh --pgdata DIR [--cluster 15/main] [--keep-sync]
# Connects to the local server with PGHOST/PGPORT. After a synchronous pair loses its primary,
# nobody is left to confirm commits, so synchronous_standby_names is cleared (writes would wait
# forever otherwise) unless --keep-sync; add a new standby with setup-standby.sh (or bring the old
# primary back with rejoin.sh) and set it again.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PGDATA= CLUSTER= KEEP_SYNC=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pgdata) PGDATA=$2; shift 2 ;;
    --cluster) CLUSTER=$2; shift 2 ;;
    --keep-sync) KEEP_SYNC=1; shift ;;
    *) die "unknown option $1" ;;
  esac
done
not_root
[ -n "$PGDATA" ] || die "--pgdata DIR is required"
PGBIN=$(find_pgbin)

[ "$(psql -XAtq -d postgres -c 'SELECT pg_is_in_recovery()')" = t ] || die "this server is already a primary"
if [ "$KEEP_SYNC" = 0 ]; then
  psql -XAtq -v ON_ERROR_STOP=1 -d postgres -c "ALTER SYSTEM SET synchronous_standby_names = ''" >/dev/null
  psql -XAtq -d postgres -c 'SELECT pg_reload_conf()' >/dev/null
fi
"$PGBIN/pg_ctl" -D "$PGDATA" -w -t 60 promote >/dev/null
for _ in $(seq 1 120); do
  [ "$(psql -XAtq -d postgres -c 'SELECT pg_is_in_recovery()')" = f ] && break
  sleep 0.5
done
[ "$(psql -XAtq -d postgres -c 'SELECT pg_is_in_recovery()')" = f ] || die "promotion did not finish"
# The new timeline reaches pg_control only with the next checkpoint; pg_rewind (rejoin.sh) reads it
# there, so take it now rather than whenever checkpoint_timeout comes round.
psql -XAtq -d postgres -c CHECKPOINT >/dev/null
timeline=$(psql -XAtq -d postgres -c 'SELECT timeline_id FROM pg_control_checkpoint()')
say "promoted: this server is the primary now (timeline $timeline)"
say "next: bring the old primary back as a standby with rejoin.sh, or build a new one with setup-standby.sh"
