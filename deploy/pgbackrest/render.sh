#!/usr/bin/env bash
# Renders pgbackrest.conf from the template beside this script.
#   render.sh --out FILE --repo DIR --pgdata DIR [--cipher-pass-file FILE] [--stanza enclave]
#             [--pg-port 5432] [--socket-dir /var/run/postgresql] [--log-dir /var/log/pgbackrest]
#             [--lock-dir /tmp/pgbackrest] [--spool-dir /var/spool/pgbackrest]
#             [--retention-full 2] [--retention-diff 7] [--compress zst] [--process-max 2]
# --cipher-pass-file: the repository passphrase; generated (openssl rand) when the file is missing.
# Copy it (and the rendered file) to every Postgres node: the repository is shared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "render.sh: $*" >&2; exit 2; }

OUT= REPO_PATH= PG_DATA= PASS_FILE=/etc/pgbackrest/cipher-pass STANZA=enclave PG_PORT=5432
SOCKET_DIR=/var/run/postgresql LOG_PATH=/var/log/pgbackrest LOCK_PATH=/tmp/pgbackrest
SPOOL_PATH=/var/spool/pgbackrest RETENTION_FULL=2 RETENTION_DIFF=7 COMPRESS_TYPE=zst PROCESS_MAX=2
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case "$1" in
    --out) OUT=$2 ;; --repo) REPO_PATH=$2 ;; --pgdata) PG_DATA=$2 ;; --cipher-pass-file) PASS_FILE=$2 ;;
    --stanza) STANZA=$2 ;; --pg-port) PG_PORT=$2 ;; --socket-dir) SOCKET_DIR=$2 ;;
    --log-dir) LOG_PATH=$2 ;; --lock-dir) LOCK_PATH=$2 ;; --spool-dir) SPOOL_PATH=$2 ;;
    --retention-full) RETENTION_FULL=$2 ;; --retention-diff) RETENTION_DIFF=$2 ;;
    --compress) COMPRESS_TYPE=$2 ;; --process-max) PROCESS_MAX=$2 ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done
[ -n "$OUT" ] && [ -n "$REPO_PATH" ] && [ -n "$PG_DATA" ] || die "--out, --repo and --pgdata are required"
if [ ! -f "$PASS_FILE" ]; then
  (umask 077; mkdir -p "$(dirname "$PASS_FILE")"; openssl rand -base64 48 | tr -d '\n' >"$PASS_FILE")
  echo "render.sh: generated the repository passphrase in $PASS_FILE: back it up (backup-secrets.sh)"
fi
CIPHER_PASS=$(cat "$PASS_FILE")
export REPO_PATH CIPHER_PASS RETENTION_FULL RETENTION_DIFF COMPRESS_TYPE PROCESS_MAX LOG_PATH \
  LOCK_PATH SPOOL_PATH STANZA PG_DATA PG_PORT SOCKET_DIR
vars=$(grep -o '\${[A-Z_]*}' "$here/pgbackrest.conf.template" | sort -u | tr -d '\n')
(umask 077; envsubst "$vars" <"$here/pgbackrest.conf.template" >"$OUT.tmp" && mv "$OUT.tmp" "$OUT")
