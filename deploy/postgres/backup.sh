#!/usr/bin/env bash
# Kept for operators used to it: backups are pgBackRest's now (deploy/pgbackrest/backup.sh,
# run by the enclave-backup@ timers). `backup.sh [full|diff|incr|verify] [options]`, default full.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../pgbackrest/backup.sh" "${1:-full}" "${@:2}"
