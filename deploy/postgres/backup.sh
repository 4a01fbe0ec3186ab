#!/usr/bin/env bash
# A full physical backup of the running server (primary or standby): pg_basebackup in tar format,
# compressed, with the WAL needed to make it consistent and a manifest, checked with
# pg_verifybackup. Run as postgres (or any role with REPLICATION); connects with PGHOST/PGPORT/PGUSER.
#
#   backup.sh --dir BACKUPS [--keep 7]
# Writes BACKUPS/enclave-YYYYmmddTHHMMSSZ/ (base.tar.gz, pg_wal.tar.gz, backup_manifest) and keeps
# the newest --keep backups. Restore with restore.sh. Schedule it (systemd timer or cron) and copy
# BACKUPS off the host.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

DIR= KEEP=7
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
[ -n "$DIR" ] || die "--dir BACKUPS is required"
[[ "$KEEP" =~ ^[1-9][0-9]*$ ]] || die "--keep must be a whole number"
PGBIN=$(find_pgbin)

target="$DIR/enclave-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$DIR"
"$PGBIN/pg_basebackup" -D "$target.partial" -F tar -z -X stream -c fast --manifest-checksums=SHA256
# pg_verifybackup reads only plain-format backups: check the manifest against an unpacked copy.
check=$(mktemp -d "$DIR/.verify.XXXXXX")
trap 'rm -rf "$check"' EXIT
tar -xzf "$target.partial/base.tar.gz" -C "$check"
mkdir -p "$check/pg_wal" && tar -xzf "$target.partial/pg_wal.tar.gz" -C "$check/pg_wal"
cp "$target.partial/backup_manifest" "$check/"
"$PGBIN/pg_verifybackup" -q "$check" || die "the backup in $target.partial does not verify"
mv "$target.partial" "$target"
say "backup written and verified: $target"

ls -1d "$DIR"/enclave-*[0-9]Z 2>/dev/null | sort | head -n -"$KEEP" | while read -r old; do
  rm -rf "$old"; say "removed old backup $old"
done
