#!/usr/bin/env bash
# One scheduled backup (systemd: enclave-backup@full|diff|incr.timer), or a verify of the
# repository (enclave-backup@verify.timer). Run as postgres on every Postgres node: only the node
# Patroni names leader backs up (the others exit 0), so the timers can be the same everywhere.
#   backup.sh full|diff|incr|verify [--config FILE] [--stanza enclave] [--patroni URL]
# --patroni: this node's Patroni REST API [http://127.0.0.1:8008]; "none" backs up unconditionally.
set -euo pipefail
die() { echo "backup.sh: $*" >&2; exit 2; }
TYPE=${1:-}; shift || true
CONFIG=/etc/pgbackrest/pgbackrest.conf STANZA=enclave PATRONI=http://127.0.0.1:8008
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case "$1" in
    --config) CONFIG=$2 ;; --stanza) STANZA=$2 ;; --patroni) PATRONI=$2 ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done
case "$TYPE" in full|diff|incr|verify) ;; *) die "say full, diff, incr or verify" ;; esac
[ "$(id -un)" = postgres ] || die "run as the postgres user"
if [ "$PATRONI" != none ]; then
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$PATRONI/primary" || true)
  if [ "$status" != 200 ]; then echo "backup.sh: not the leader ($PATRONI/primary: $status); nothing to do"; exit 0; fi
fi
if [ "$TYPE" = verify ]; then
  exec pgbackrest --config="$CONFIG" --stanza="$STANZA" verify
fi
pgbackrest --config="$CONFIG" --stanza="$STANZA" backup --type="$TYPE"
# Expire by the retention settings, then prove WAL still reaches the repository.
pgbackrest --config="$CONFIG" --stanza="$STANZA" check
