#!/usr/bin/env bash
# Renders one machine's etcd and Patroni configuration from the templates beside this script.
#
#   render.sh --out DIR --name NAME --address ADDR --etcd NAME=HOST[:CLIENT[:PEER]],... \
#             --secrets FILE [options]
# Writes DIR/etcd.conf.yml (every machine) and, unless --etcd-only, DIR/patroni.yml.
#   --name NAME            this machine's member name (etcd and Patroni) [required]
#   --address ADDR         address the other machines and the apps reach this one by [required]
#   --listen ADDR          address to listen on [--address]
#   --etcd LIST            every etcd member, NAME=HOST[:CLIENT_PORT[:PEER_PORT]] [2379, 2380]
#   --secrets FILE         REPLICATION_PASSWORD, SUPERUSER_PASSWORD, REWIND_PASSWORD, APP_PASSWORD;
#                          generated if missing: copy the same file to every machine
#   --pg-port N [5432]     --rest-port N [8008]
#   --data-dir DIR [/var/lib/postgresql/15/enclave]   --pg-bin DIR [/usr/lib/postgresql/15/bin]
#   --tls-dir DIR [/etc/patroni/tls]   ca.crt, node.crt, node.key (make-certs.sh)
#   --state-dir DIR [/var/lib/postgresql]   (pgpass)   --log-dir DIR [/var/log/patroni]
#   --socket-dir DIR [/var/run/postgresql]   --etcd-data-dir DIR [/var/lib/etcd/enclave]
#   --peer-network CIDR    where the other Postgres nodes are (replication, pg_rewind) [--address/32]
#   --app-network CIDR     where the Enclave apps connect from [--peer-network]
#   --app-user NAME [enclave]   --app-database NAME [enclave]   --cluster NAME [enclave]
#   --sync-strict true|false [false]   --watchdog off|automatic|required [off]
#   --ttl S [20] --loop-wait S [5] --retry-timeout S [5]   (ttl >= loop_wait + 2 * retry_timeout)
#   --archive-command CMD  WAL archiving (deploy/pgbackrest: pgbackrest --stanza=enclave archive-push %p) [off]
#   --max-connections N [200]   --etcd-only
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "render.sh: $*" >&2; exit 2; }

OUT= NAME= ADDRESS= LISTEN= ETCD= SECRETS= PG_PORT=5432 REST_PORT=8008
DATA_DIR=/var/lib/postgresql/15/enclave PG_BIN=/usr/lib/postgresql/15/bin TLS_DIR=/etc/patroni/tls
STATE_DIR=/var/lib/postgresql LOG_DIR=/var/log/patroni SOCKET_DIR=/var/run/postgresql
ETCD_DATA_DIR=/var/lib/etcd/enclave PEER_NETWORK= APP_NETWORK= APP_USER=enclave APP_DATABASE=enclave
CLUSTER_NAME=enclave SYNC_STRICT=false WATCHDOG_MODE=off TTL=20 LOOP_WAIT=5 RETRY_TIMEOUT=5
ARCHIVE_COMMAND= MAX_CONNECTIONS=200 ETCD_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2 ;; --name) NAME=$2 ;; --address) ADDRESS=$2 ;; --listen) LISTEN=$2 ;;
    --etcd) ETCD=$2 ;; --secrets) SECRETS=$2 ;; --pg-port) PG_PORT=$2 ;; --rest-port) REST_PORT=$2 ;;
    --data-dir) DATA_DIR=$2 ;; --pg-bin) PG_BIN=$2 ;; --tls-dir) TLS_DIR=$2 ;;
    --state-dir) STATE_DIR=$2 ;; --log-dir) LOG_DIR=$2 ;; --socket-dir) SOCKET_DIR=$2 ;;
    --etcd-data-dir) ETCD_DATA_DIR=$2 ;; --peer-network) PEER_NETWORK=$2 ;;
    --app-network) APP_NETWORK=$2 ;; --app-user) APP_USER=$2 ;; --app-database) APP_DATABASE=$2 ;;
    --cluster) CLUSTER_NAME=$2 ;; --sync-strict) SYNC_STRICT=$2 ;; --watchdog) WATCHDOG_MODE=$2 ;;
    --ttl) TTL=$2 ;; --loop-wait) LOOP_WAIT=$2 ;; --retry-timeout) RETRY_TIMEOUT=$2 ;;
    --archive-command) ARCHIVE_COMMAND=$2 ;; --max-connections) MAX_CONNECTIONS=$2 ;;
    --etcd-only) ETCD_ONLY=1; shift; continue ;;
    *) die "unknown option $1" ;;
  esac
  [ $# -ge 2 ] || die "$1 needs a value"
  shift 2
done
for v in OUT NAME ADDRESS ETCD; do [ -n "${!v}" ] || die "--$(echo "$v" | tr 'A-Z_' 'a-z-') is required"; done
case "$SYNC_STRICT" in true|false) ;; *) die "--sync-strict is true or false" ;; esac
case "$WATCHDOG_MODE" in off|automatic|required) ;; *) die "--watchdog is off, automatic or required" ;; esac
[ "$TTL" -ge $((LOOP_WAIT + 2 * RETRY_TIMEOUT)) ] || die "--ttl must be at least loop_wait + 2 * retry_timeout"
LISTEN=${LISTEN:-$ADDRESS}
PEER_NETWORK=${PEER_NETWORK:-$ADDRESS/32}
APP_NETWORK=${APP_NETWORK:-$PEER_NETWORK}

# etcd: this member's URLs, the initial cluster, and the client list Patroni uses.
ETCD_HOSTS= ETCD_INITIAL_CLUSTER= ETCD_CLIENT_URL= ETCD_PEER_URL=
IFS=, read -ra members <<<"$ETCD"
for m in "${members[@]}"; do
  mname=${m%%=*}; rest=${m#*=}
  IFS=: read -r mhost mclient mpeer <<<"$rest"
  mclient=${mclient:-2379}; mpeer=${mpeer:-2380}
  ETCD_HOSTS+="$mhost:$mclient,"
  ETCD_INITIAL_CLUSTER+="$mname=http://$mhost:$mpeer,"
  if [ "$mname" = "$NAME" ]; then
    ETCD_CLIENT_URL="http://$mhost:$mclient"; ETCD_PEER_URL="http://$mhost:$mpeer"
  fi
done
ETCD_HOSTS=${ETCD_HOSTS%,}; ETCD_INITIAL_CLUSTER=${ETCD_INITIAL_CLUSTER%,}
ETCD_NAME=$NAME

mkdir -p "$OUT"
render() { # template output: substitutes only the listed variables
  local vars
  vars=$(grep -o '\${[A-Z_]*}' "$1" | sort -u | tr -d '\n')
  envsubst "$vars" <"$1" >"$2.tmp" && mv "$2.tmp" "$2"
}
if [ -n "$ETCD_CLIENT_URL" ]; then
  export ETCD_NAME ETCD_DATA_DIR ETCD_CLIENT_URL ETCD_PEER_URL ETCD_INITIAL_CLUSTER CLUSTER_NAME
  render "$here/etcd.conf.yml.template" "$OUT/etcd.conf.yml"
fi
[ "$ETCD_ONLY" = 1 ] && exit 0

[ -n "$SECRETS" ] || die "--secrets FILE is required"
if [ ! -f "$SECRETS" ]; then
  (umask 077; for k in REPLICATION_PASSWORD SUPERUSER_PASSWORD REWIND_PASSWORD APP_PASSWORD; do
    echo "$k=$(openssl rand -hex 24)"; done >"$SECRETS")
  echo "render.sh: generated $SECRETS: copy it to the other Postgres machines"
fi
# shellcheck disable=SC1090
. "$SECRETS"
export REPLICATION_PASSWORD SUPERUSER_PASSWORD REWIND_PASSWORD
if [ -n "$ARCHIVE_COMMAND" ]; then ARCHIVE_MODE=on; else ARCHIVE_MODE=off ARCHIVE_COMMAND=/bin/true; fi
POST_BOOTSTRAP="$here/post-bootstrap.sh $SECRETS $APP_USER $APP_DATABASE"
PATRONI_CONFIG=$OUT/patroni.yml
export CLUSTER_NAME NODE_NAME=$NAME LOG_DIR LISTEN_ADDRESS=$LISTEN CONNECT_ADDRESS=$ADDRESS \
  REST_PORT PG_PORT ETCD_HOSTS TTL LOOP_WAIT RETRY_TIMEOUT SYNC_STRICT MAX_CONNECTIONS ARCHIVE_MODE \
  ARCHIVE_COMMAND TLS_DIR POST_BOOTSTRAP DATA_DIR PG_BIN STATE_DIR SOCKET_DIR PEER_NETWORK \
  APP_DATABASE APP_USER APP_NETWORK WATCHDOG_MODE PATRONI_CONFIG
(umask 077; render "$here/patroni.yml.template" "$OUT/patroni.yml")
