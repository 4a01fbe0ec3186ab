#!/usr/bin/env bash
# Restores a backup made by backup.sh into an empty data directory, ready to start as a primary.
# Run as postgres, with the server of that directory stopped.
#
#   restore.sh --backup BACKUPS/enclave-… --pgdata DIR [--force] [--start] [--cluster 15/main]
# Afterwards: start it, point DATABASE_URL at it, and rebuild the standbys with setup-standby.sh.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

BACKUP= PGDATA= CLUSTER= FORCE=0 START=0
while [ $# -gt 0 ]; do
  case "$1" in
    --backup) BACKUP=$2; shift 2 ;;
    --pgdata) PGDATA=$2; shift 2 ;;
    --cluster) CLUSTER=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    --start) START=1; shift ;;
    *) die "unknown option $1" ;;
  esac
done
not_root
[ -f "$BACKUP/base.tar.gz" ] || die "--backup must name a directory made by backup.sh"
[ -n "$PGDATA" ] || die "--pgdata DIR is required"
PGBIN=$(find_pgbin)

if [ -d "$PGDATA" ] && [ -n "$(ls -A "$PGDATA")" ]; then
  [ "$FORCE" = 1 ] || die "$PGDATA is not empty (use --force to replace it)"
  is_running && die "the server of $PGDATA is running; stop it first"
  find "$PGDATA" -mindepth 1 -delete
fi
mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
tar -xzf "$BACKUP/base.tar.gz" -C "$PGDATA"
tar -xzf "$BACKUP/pg_wal.tar.gz" -C "$PGDATA/pg_wal"
cp "$BACKUP/backup_manifest" "$PGDATA/"
"$PGBIN/pg_verifybackup" -q "$PGDATA" || die "the restored files do not match the backup manifest"
rm -f "$PGDATA/backup_manifest" "$PGDATA/standby.signal"
# A restored server starts alone: it must not wait for standbys that are not there yet.
echo "synchronous_standby_names = ''" >> "$PGDATA/postgresql.auto.conf"
say "restored $BACKUP into $PGDATA"
if [ "$START" = 1 ]; then pg_start; say "started"; fi
