#!/usr/bin/env bash
# Certificates for the Postgres nodes (TLS for replication, pg_rewind and the apps), from a
# private CA made here, or from your own CA (--ca-cert/--ca-key). Run once on an admin machine,
# then copy DIR/ca.crt and DIR/NAME/node.{crt,key} to each node's TLS directory
# (owner postgres, key 0600). Apps need only ca.crt (sslmode=verify-full&sslrootcert=...).
#
#   make-certs.sh --out DIR --node NAME=ADDR[,ADDR...] [--node ...] [--days 825]
#                 [--ca-cert FILE --ca-key FILE]
# ADDR is an IP address or DNS name the node is reached by (each goes into subjectAltName).
# Idempotent: an existing CA or node certificate is kept.
set -euo pipefail
die() { echo "make-certs.sh: $*" >&2; exit 1; }

OUT= DAYS=825 CA_CERT= CA_KEY=
NODES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --node) NODES+=("$2"); shift 2 ;;
    --days) DAYS=$2; shift 2 ;;
    --ca-cert) CA_CERT=$2; shift 2 ;;
    --ca-key) CA_KEY=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
[ -n "$OUT" ] || die "--out DIR is required"
[ ${#NODES[@]} -gt 0 ] || die "at least one --node NAME=ADDR is required"
umask 077
mkdir -p "$OUT"

if [ -n "$CA_CERT" ]; then
  [ -n "$CA_KEY" ] || die "--ca-cert needs --ca-key"
  cp "$CA_CERT" "$OUT/ca.crt"; cp "$CA_KEY" "$OUT/ca.key"
elif [ ! -f "$OUT/ca.crt" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
    -days "$DAYS" -subj "/CN=Enclave Postgres CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$OUT/ca.key" -out "$OUT/ca.crt" 2>/dev/null
fi
chmod 0644 "$OUT/ca.crt"

for spec in "${NODES[@]}"; do
  name=${spec%%=*}; addrs=${spec#*=}
  [ -n "$name" ] && [ "$addrs" != "$spec" ] || die "--node wants NAME=ADDR[,ADDR...], got $spec"
  dir="$OUT/$name"
  [ -f "$dir/node.crt" ] && continue
  mkdir -p "$dir"
  san=
  IFS=, read -ra list <<<"$addrs"
  for a in "${list[@]}"; do
    if [[ $a =~ ^[0-9.]+$ || $a == *:* ]]; then san+="IP:$a,"; else san+="DNS:$a,"; fi
  done
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
    -subj "/CN=${list[0]}" -keyout "$dir/node.key" -out "$dir/node.csr" 2>/dev/null
  openssl x509 -req -in "$dir/node.csr" -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" \
    -CAcreateserial -days "$DAYS" -sha256 \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "${san%,}") \
    -out "$dir/node.crt" 2>/dev/null
  rm -f "$dir/node.csr"
  cp "$OUT/ca.crt" "$dir/ca.crt"
  echo "make-certs.sh: $dir/node.crt for ${san%,}"
done
