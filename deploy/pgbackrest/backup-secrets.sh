#!/usr/bin/env bash
# Enclave's own secrets, backed up apart from the database: without them a restored database
# cannot decrypt stored upstream keys (master key), prove its audit trail (signing keys), or read
# the pgBackRest repository at all (its passphrase). Encrypted with AES-256 (openssl, PBKDF2);
# keep the passphrase offline (a safe, a password manager), never beside the archive.
#   backup-secrets.sh --out FILE.enc --passphrase-file FILE [PATH...]
#   backup-secrets.sh --restore FILE.enc --passphrase-file FILE --into DIR
# PATHs default to what an installation has: /etc/enclave (env file, TLS), /var/lib/enclave/master.key,
# /var/lib/enclave/audit (signing keys), /etc/pgbackrest, /etc/patroni. Missing paths are skipped.
set -euo pipefail
die() { echo "backup-secrets.sh: $*" >&2; exit 2; }
OUT= RESTORE= PASS= INTO=
PATHS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;; --restore) RESTORE=$2; shift 2 ;;
    --passphrase-file) PASS=$2; shift 2 ;; --into) INTO=$2; shift 2 ;;
    -*) die "unknown option $1" ;;
    *) PATHS+=("$1"); shift ;;
  esac
done
[ -n "$PASS" ] && [ -r "$PASS" ] || die "--passphrase-file FILE (readable) is required"
cipher=(-aes-256-cbc -pbkdf2 -iter 600000 -salt -pass "file:$PASS")

if [ -n "$RESTORE" ]; then
  [ -n "$INTO" ] || die "--restore needs --into DIR (then copy the files into place)"
  mkdir -p "$INTO"
  openssl enc -d "${cipher[@]}" -in "$RESTORE" | tar -xzf - -C "$INTO"
  echo "backup-secrets.sh: restored into $INTO (paths as they were under /)"
  exit 0
fi
[ -n "$OUT" ] || die "--out FILE.enc is required"
[ ${#PATHS[@]} -gt 0 ] || PATHS=(/etc/enclave /var/lib/enclave/master.key /var/lib/enclave/audit /etc/pgbackrest /etc/patroni)
present=()
for p in "${PATHS[@]}"; do [ -e "$p" ] && present+=("${p#/}") || echo "backup-secrets.sh: skipping $p (not here)"; done
[ ${#present[@]} -gt 0 ] || die "none of the paths exist"
umask 077
tar -czf - -C / "${present[@]}" | openssl enc "${cipher[@]}" -out "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "backup-secrets.sh: ${#present[@]} path(s) encrypted into $OUT"
