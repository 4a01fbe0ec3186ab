#!/usr/bin/env bash
# Restores the database as it was at a point in time, into an empty (or --delta) data directory.
#   pitr.sh --pgdata DIR --target 'YYYY-MM-DD HH:MM:SS+00' [--config FILE] [--stanza enclave]
#           [pgbackrest restore options, e.g. --delta, --archive-mode=off, --set=BACKUP]
# Without --target: the latest state the archive holds. The restored server promotes itself when
# it reaches the target (start it with pg_ctl, or let Patroni bootstrap from it: docs/operations.md).
set -euo pipefail
die() { echo "pitr.sh: $*" >&2; exit 2; }
CONFIG=/etc/pgbackrest/pgbackrest.conf STANZA=enclave PGDATA_DIR= TARGET=
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG=$2; shift 2 ;; --stanza) STANZA=$2; shift 2 ;;
    --pgdata) PGDATA_DIR=$2; shift 2 ;; --target) TARGET=$2; shift 2 ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done
[ -n "$PGDATA_DIR" ] || die "--pgdata DIR is required"
[ "$(id -un)" = postgres ] || die "run as the postgres user"
if [ -n "$TARGET" ]; then
  set -- --type=time "--target=$TARGET" --target-action=promote
else
  set -- --type=default
fi
exec pgbackrest --config="$CONFIG" --stanza="$STANZA" restore --pg1-path="$PGDATA_DIR" "$@" "${EXTRA[@]}"
