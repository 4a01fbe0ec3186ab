#!/usr/bin/env bash
# Kept for operators used to it: restores are pgBackRest's now (deploy/pgbackrest/pitr.sh).
#   restore.sh --pgdata DIR [--target 'YYYY-MM-DD HH:MM:SS+00'] [pgbackrest restore options]
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../pgbackrest/pitr.sh" "$@"
