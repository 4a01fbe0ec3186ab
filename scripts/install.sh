#!/usr/bin/env bash
# Installs Enclave on this host from a release (`npm run release`): nothing is downloaded.
# Debian 12 / Ubuntu 22.04+ (RHEL 9: see docs/operations.md). Run as root. Idempotent.
#
#   install.sh [--release enclave-V.tar.gz] [options]    install, or repair, this version
#   install.sh --upgrade --release enclave-V.tar.gz      install V beside the current version,
#                                                        migrate, switch, restart; roll back if
#                                                        the apps do not become ready
#   install.sh --uninstall [--purge]                     remove; --purge also removes config,
#                                                        data, logs, the user and the local database
# Without --release, the release this script is part of (its parent directory) is installed.
#
# Options:
#   --database-url URL      use this Postgres (several hosts: h1:5432,h2:5432); otherwise a local
#                           Postgres (the distribution's package) gets a role and a database
#   --chat-instances N      chat instances on this host (ports 8080, 8083, 8084, …) [2]
#   --server-name NAME      the name clients use [the host name]
#   --cert FILE --key FILE  TLS certificate and key; otherwise a self-signed one is made
#   --admin-networks LIST   CIDRs that may reach /admin [127.0.0.1/32,::1/128]
#   --no-start              install and enable, but start nothing
#
# Every path can be moved, e.g. for a test into a throwaway root: ENCLAVE_ROOT (prefix of all
# below), ENCLAVE_PREFIX [/opt/enclave], ENCLAVE_ETC [/etc/enclave], ENCLAVE_STATE
# [/var/lib/enclave], ENCLAVE_LOGS [/var/log/enclave], ENCLAVE_UNIT_DIR [/etc/systemd/system],
# ENCLAVE_NGINX_DIR [/etc/nginx]. systemctl steps run only with systemd as PID 1 and no ENCLAVE_ROOT.
# ENCLAVE_HEALTHCHECK_CMD replaces the readiness check after an upgrade (tests).
set -euo pipefail
umask 022

ROOT=${ENCLAVE_ROOT:-}
ROOT=${ROOT%/}
PREFIX=${ENCLAVE_PREFIX:-$ROOT/opt/enclave}
ETC=${ENCLAVE_ETC:-$ROOT/etc/enclave}
STATE=${ENCLAVE_STATE:-$ROOT/var/lib/enclave}
LOGS=${ENCLAVE_LOGS:-$ROOT/var/log/enclave}
UNIT_DIR=${ENCLAVE_UNIT_DIR:-$ROOT/etc/systemd/system}
NGINX_DIR=${ENCLAVE_NGINX_DIR:-$ROOT/etc/nginx}
SVC_USER=enclave
ENV_FILE=$ETC/enclave.env
CHAT_BASE_PORT=8080
ADMIN_PORT=8081
AUDIT_PORT=8082

MODE=install RELEASE= DATABASE_URL_ARG= INSTANCES=2 SERVER_NAME= CERT= KEY= PURGE=0 START=1
ADMIN_NETWORKS=127.0.0.1/32,::1/128
while [ $# -gt 0 ]; do
  case "$1" in
    --release) RELEASE=$2; shift 2 ;;
    --upgrade) MODE=upgrade; shift ;;
    --uninstall) MODE=uninstall; shift ;;
    --purge) PURGE=1; shift ;;
    --database-url) DATABASE_URL_ARG=$2; shift 2 ;;
    --chat-instances) INSTANCES=$2; shift 2 ;;
    --server-name) SERVER_NAME=$2; shift 2 ;;
    --cert) CERT=$2; shift 2 ;;
    --key) KEY=$2; shift 2 ;;
    --admin-networks) ADMIN_NETWORKS=$2; shift 2 ;;
    --no-start) START=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "enclave install: $*"; }
die() { echo "enclave install: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (sudo $0 …)"
[[ "$INSTANCES" =~ ^[1-9][0-9]?$ ]] || die "--chat-instances must be 1 to 99"
[ -z "$CERT$KEY" ] || { [ -f "$CERT" ] && [ -f "$KEY" ]; } || die "--cert and --key must both name files"

# systemctl only where systemd runs this machine, and never into a throwaway root.
if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then HAVE_SYSTEMD=1; else HAVE_SYSTEMD=0; fi
systemctl_() { if [ "$HAVE_SYSTEMD" = 1 ]; then systemctl "$@"; else say "(no systemd as PID 1 here: skipped systemctl $*)"; fi; }

check_os() {
  [ -r "$ROOT/etc/os-release" ] || [ -r /etc/os-release ] || return 0
  # shellcheck disable=SC1091
  . /etc/os-release
  case "${ID:-}:${VERSION_ID:-}" in
    debian:12*|debian:13*|ubuntu:2[2-9].*) ;;
    rhel:9*|rocky:9*|almalinux:9*) say "RHEL 9 family: see docs/operations.md for the differences" ;;
    *) say "warning: ${PRETTY_NAME:-this system} is not Debian 12 or Ubuntu 22.04+; going on" ;;
  esac
}

chat_ports() {
  local i ports=$CHAT_BASE_PORT
  for ((i = 1; i < INSTANCES; i++)); do ports="$ports $((AUDIT_PORT + i))"; done
  echo "$ports"
}

# ---- the release ------------------------------------------------------------------------------
unpack_release() {
  if [ -z "$RELEASE" ]; then
    SRC=$(cd "$(dirname "$0")/.." && pwd)
  else
    [ -f "$RELEASE" ] || die "no release file $RELEASE"
    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
    tar -xzf "$RELEASE" -C "$WORK"
    SRC=$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -name 'enclave-*' | head -n1)
  fi
  [ -f "$SRC/VERSION" ] && [ -x "$SRC/bin/node" ] && [ -d "$SRC/dist" ] ||
    die "$SRC is not an Enclave release (npm run release makes one)"
  VERSION=$(cat "$SRC/VERSION")
}

install_version() {
  local dest=$PREFIX/$VERSION
  if [ -f "$dest/VERSION" ] && [ "$(cat "$dest/VERSION")" = "$VERSION" ] && [ "$SRC" != "$dest" ]; then
    say "version $VERSION already in $dest"
  elif [ "$SRC" != "$dest" ]; then
    mkdir -p "$PREFIX"
    rm -rf "$dest.new"
    cp -a "$SRC" "$dest.new"
    chown -R root:root "$dest.new"
    chmod -R go-w "$dest.new"
    rm -rf "$dest"
    mv "$dest.new" "$dest"
    say "installed version $VERSION in $dest"
  fi
}

# ---- the account, directories, configuration --------------------------------------------------
ensure_user() {
  if [ -n "$ROOT" ]; then
    mkdir -p "$ROOT/etc"
    [ -f "$ROOT/etc/passwd" ] || printf 'root:x:0:0:root:/root:/bin/bash\n' > "$ROOT/etc/passwd"
    [ -f "$ROOT/etc/group" ] || printf 'root:x:0:\n' > "$ROOT/etc/group"
    [ -f "$ROOT/etc/shadow" ] || { printf 'root:*:19000:0:99999:7:::\n' > "$ROOT/etc/shadow"; chmod 600 "$ROOT/etc/shadow"; }
    [ -f "$ROOT/etc/gshadow" ] || { printf 'root:*::\n' > "$ROOT/etc/gshadow"; chmod 600 "$ROOT/etc/gshadow"; }
  fi
  if ! grep -q "^$SVC_USER:" "$ROOT/etc/passwd" 2>/dev/null; then
    useradd ${ROOT:+--root "$ROOT"} --system --user-group --home-dir /var/lib/enclave \
      --no-create-home --shell /usr/sbin/nologin --comment "Enclave LLM gateway" "$SVC_USER"
    say "created the system user $SVC_USER"
  fi
  SVC_UID=$(awk -F: -v u="$SVC_USER" '$1 == u {print $3}' "$ROOT/etc/passwd")
  SVC_GID=$(awk -F: -v u="$SVC_USER" '$1 == u {print $4}' "$ROOT/etc/passwd")
}

ensure_dirs() {
  install -d -m 0755 "$ETC"
  install -d -m 0700 -o "$SVC_UID" -g "$SVC_GID" "$STATE" "$STATE/audit"
  install -d -m 0750 -o "$SVC_UID" -g "$SVC_GID" "$LOGS"
  install -d -m 0700 "$ETC/tls"
}

# The path the apps see: ENCLAVE_ROOT is where files go, not where the services will look.
in_system() { local p=$1; [ -z "$ROOT" ] || p=${p#"$ROOT"}; echo "${p:-/}"; }

env_set() { # KEY VALUE: add KEY unless the file has it (an operator's value always wins)
  grep -q "^$1=" "$ENV_FILE" || echo "$1=$2" >> "$ENV_FILE"
}

write_config() {
  local fresh=0
  if [ ! -f "$ENV_FILE" ]; then
    fresh=1
    install -m 0600 /dev/null "$ENV_FILE"
    cat >> "$ENV_FILE" <<EOF
# Enclave configuration (README.md lists every key). Read by systemd for the services (mode 0600,
# root only). Keep CHAT_PORT out of this file: each chat instance's port is its unit's instance.
EOF
  fi
  chmod 0600 "$ENV_FILE"
  chown root:root "$ENV_FILE"
  env_set ENCLAVE_HOST 127.0.0.1
  env_set ADMIN_PORT "$ADMIN_PORT"
  env_set AUDIT_PORT "$AUDIT_PORT"
  env_set ENCLAVE_DATA_DIR "$(in_system "$STATE")"
  env_set ENCLAVE_MASTER_KEY "$(openssl rand -base64 32)"
  env_set ENCLAVE_METRICS_TOKEN "$(openssl rand -hex 32)"
  # One migration run per install or upgrade (below), not one per starting process.
  env_set ENCLAVE_MIGRATE_ON_START false
  [ "$fresh" = 0 ] || say "wrote $ENV_FILE (mode 0600) with generated secrets"

  local key=$STATE/audit/signing-key.pem
  if [ ! -f "$key" ]; then
    openssl genpkey -algorithm ed25519 -out "$key"
    say "generated the audit signing key $key (back it up: it proves the audit trail)"
  fi
  chown "$SVC_UID:$SVC_GID" "$key"
  chmod 0600 "$key"
}

# ---- the database ------------------------------------------------------------------------------
setup_database() {
  if [ -n "$DATABASE_URL_ARG" ]; then
    if grep -q '^DATABASE_URL=' "$ENV_FILE"; then
      sed -i "s|^DATABASE_URL=.*|DATABASE_URL=$DATABASE_URL_ARG|" "$ENV_FILE"
    else
      echo "DATABASE_URL=$DATABASE_URL_ARG" >> "$ENV_FILE"
    fi
    return
  fi
  grep -q '^DATABASE_URL=' "$ENV_FILE" && return
  [ -z "$ROOT" ] || die "give --database-url when installing into ENCLAVE_ROOT"
  if ! command -v pg_lsclusters >/dev/null; then
    say "installing PostgreSQL from the distribution's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
  fi
  local password
  password=$(openssl rand -hex 24)
  runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -v pw="$password" <<'SQL'
SELECT format('CREATE ROLE enclave LOGIN PASSWORD %L', :'pw')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'enclave') \gexec
SELECT format('ALTER ROLE enclave PASSWORD %L', :'pw') \gexec
SELECT 'CREATE DATABASE enclave OWNER enclave'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'enclave') \gexec
-- The admin dashboard reads the standbys' state and lag from pg_stat_replication.
GRANT pg_read_all_stats TO enclave;
SQL
  echo "DATABASE_URL=postgres://enclave:$password@127.0.0.1:5432/enclave" >> "$ENV_FILE"
  touch "$ETC/.local-database"
  say "created the role and database enclave in the local PostgreSQL"
}

enclave_cli() { # runs the enclave command of version $1 with the installed configuration
  local version=$1; shift
  ENCLAVE_CONFIG=$ENV_FILE "$PREFIX/$version/bin/enclave" "$@"
}

migrate() {
  enclave_cli "$1" migrate || die "migrations failed (the database is unchanged if none applied)"
}

bootstrap_admin() {
  [ ! -f "$ETC/.bootstrapped" ] || return 0
  if ! enclave_cli "$VERSION" --help 2>/dev/null | grep -q bootstrap; then
    say "warning: this release has no 'enclave bootstrap'; create the first admin by hand"
    return
  fi
  say "creating the first administrator (its one-time password follows)"
  enclave_cli "$VERSION" bootstrap
  touch "$ETC/.bootstrapped"
}

# ---- systemd units and nginx ------------------------------------------------------------------
install_units() {
  install -d -m 0755 "$UNIT_DIR"
  local f
  for f in "$PREFIX/$VERSION"/deploy/systemd/*; do
    sed -e "s#/opt/enclave#$PREFIX#g" -e "s#/etc/enclave#$ETC#g" "$f" > "$UNIT_DIR/$(basename "$f").tmp"
    chmod 0644 "$UNIT_DIR/$(basename "$f").tmp"
    mv "$UNIT_DIR/$(basename "$f").tmp" "$UNIT_DIR/$(basename "$f")"
  done
  if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify "$UNIT_DIR/enclave.target" "$UNIT_DIR/enclave-admin.service" \
      "$UNIT_DIR/enclave-audit.service" "$UNIT_DIR/enclave-chat@.service" ||
      die "systemd-analyze verify found problems in the units"
  fi
  say "installed the systemd units in $UNIT_DIR"
}

install_nginx() {
  local site=$NGINX_DIR/enclave
  install -d -m 0755 "$site"
  local name=${SERVER_NAME:-$(hostname -f 2>/dev/null || hostname)}
  if [ -n "$CERT" ]; then
    install -m 0644 "$CERT" "$ETC/tls/enclave.crt"
    install -m 0600 "$KEY" "$ETC/tls/enclave.key"
  elif [ ! -f "$ETC/tls/enclave.crt" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
      -subj "/CN=$name" -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
      -keyout "$ETC/tls/enclave.key" -out "$ETC/tls/enclave.crt" 2>/dev/null
    chmod 0600 "$ETC/tls/enclave.key"
    say "made a self-signed certificate for $name (replace it: --cert/--key)"
  fi
  local chat
  chat=$(chat_ports | tr ' ' ',')
  # What scripts/scale needs to render the upstream again.
  cat > "$ETC/nginx.args" <<EOF
--out $site --admin $ADMIN_PORT --admin-networks $ADMIN_NETWORKS --server-name $name --cert $ETC/tls/enclave.crt --key $ETC/tls/enclave.key --static-root $PREFIX/current/dist/apps/chat/web --etc-dir $ETC
EOF
  # shellcheck disable=SC2046
  "$PREFIX/$VERSION/bin/node" "$PREFIX/$VERSION/deploy/nginx/render.mjs" $(cat "$ETC/nginx.args") --chat "$chat"
  if [ -d "$NGINX_DIR/sites-enabled" ] || [ -d "$NGINX_DIR/sites-available" ]; then
    install -d "$NGINX_DIR/sites-enabled"
    ln -sfn "$site/enclave.conf" "$NGINX_DIR/sites-enabled/enclave.conf"
  else
    install -d "$NGINX_DIR/conf.d"
    ln -sfn "$site/enclave.conf" "$NGINX_DIR/conf.d/enclave.conf"
  fi
  if [ -z "$ROOT" ] && command -v nginx >/dev/null; then
    nginx -t -q || die "nginx -t fails with the Enclave site"
    systemctl_ reload-or-restart nginx
  fi
  say "installed the nginx site in $site (chat instances: $chat)"
}

switch_to() { # point current at version $1
  ln -sfn "$1" "$PREFIX/current.new"
  mv -T "$PREFIX/current.new" "$PREFIX/current"
}

units_of_host() {
  local p units="enclave-admin.service enclave-audit.service"
  for p in $(chat_ports); do units="$units enclave-chat@$p.service"; done
  echo "$units"
}

start_all() {
  [ "$START" = 1 ] || { say "not starting (--no-start)"; return; }
  systemctl_ daemon-reload
  # shellcheck disable=SC2046
  systemctl_ enable enclave.target $(units_of_host)
  # shellcheck disable=SC2046
  systemctl_ restart $(units_of_host)
}

healthy() {
  if [ -n "${ENCLAVE_HEALTHCHECK_CMD:-}" ]; then bash -c "$ENCLAVE_HEALTHCHECK_CMD"; return; fi
  [ "$HAVE_SYSTEMD" = 1 ] && [ "$START" = 1 ] || return 0
  local port deadline=$((SECONDS + 90))
  for port in $(chat_ports) $ADMIN_PORT $AUDIT_PORT; do
    until curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz"; do
      [ $SECONDS -lt $deadline ] || { say "port $port is not ready"; return 1; }
      sleep 1
    done
  done
}

# ---- the three modes ---------------------------------------------------------------------------
do_install() {
  check_os
  unpack_release
  install_version
  ensure_user
  ensure_dirs
  write_config
  setup_database
  migrate "$VERSION"
  switch_to "$VERSION"
  install_units
  install_nginx
  bootstrap_admin
  start_all
  healthy || die "installed, but the apps are not ready: journalctl -u 'enclave-*' and enclave doctor"
  say "Enclave $VERSION is installed$([ "$HAVE_SYSTEMD" = 1 ] && [ "$START" = 1 ] && echo ' and running')."
}

do_upgrade() {
  unpack_release
  [ -L "$PREFIX/current" ] || die "no installed version to upgrade (run without --upgrade)"
  local previous
  previous=$(readlink "$PREFIX/current")
  [ "$previous" != "$VERSION" ] || die "version $VERSION is already the current one"
  install_version
  ensure_user
  write_config
  # Migrations are additive (a landed migration is never edited), so the previous version keeps
  # working on the migrated schema if we have to roll back.
  migrate "$VERSION"
  switch_to "$VERSION"
  install_units
  install_nginx
  start_all
  if healthy; then
    say "upgraded $previous → $VERSION ($PREFIX/$previous is kept for a manual roll back)"
    return
  fi
  say "version $VERSION is not healthy: rolling back to $previous"
  VERSION=$previous
  switch_to "$previous"
  install_units
  start_all
  die "upgrade failed and was rolled back to $previous; see journalctl -u 'enclave-*'"
}

do_uninstall() {
  # shellcheck disable=SC2046
  systemctl_ disable --now enclave.target $(cd "$UNIT_DIR" 2>/dev/null && ls enclave-*.service 2>/dev/null | grep -v '@\.service' || true)
  local chat
  for chat in $(systemctl list-units --plain --no-legend 'enclave-chat@*' 2>/dev/null | awk '{print $1}'); do
    systemctl_ disable --now "$chat"
  done
  rm -f "$UNIT_DIR"/enclave.target "$UNIT_DIR"/enclave-*.service
  rm -f "$NGINX_DIR/sites-enabled/enclave.conf" "$NGINX_DIR/conf.d/enclave.conf"
  rm -rf "$NGINX_DIR/enclave"
  systemctl_ daemon-reload
  [ -z "$ROOT" ] && command -v nginx >/dev/null && systemctl_ reload nginx || true
  rm -rf "$PREFIX"
  if [ "$PURGE" = 1 ]; then
    if [ -f "$ETC/.local-database" ] && command -v psql >/dev/null; then
      runuser -u postgres -- psql -XAtq -c 'DROP DATABASE IF EXISTS enclave WITH (FORCE)' -c 'DROP ROLE IF EXISTS enclave' || true
    fi
    rm -rf "$ETC" "$STATE" "$LOGS"
    if grep -q "^$SVC_USER:" "$ROOT/etc/passwd" 2>/dev/null; then userdel ${ROOT:+--root "$ROOT"} "$SVC_USER"; fi
    say "removed Enclave with its configuration, data and logs"
  else
    say "removed Enclave; kept $ETC, $STATE, $LOGS and the database (--purge removes them)"
  fi
}

case "$MODE" in
  install) do_install ;;
  upgrade) do_upgrade ;;
  uninstall) do_uninstall ;;
esac
