#!/usr/bin/env bash
# Installs Enclave on this host from a release (`npm run release`): nothing is downloaded.
# Debian 12 / Ubuntu 22.04+ (RHEL 9: see docs/operations.md). Run as root. Idempotent.
#
#   install.sh [--release enclave-V-linux-x64.tar.gz] [options]
#                                  install, or repair, this version (a re-run checks every file of
#                                  the installed version against the release's SHA256SUMS and
#                                  copies back what differs)
#   install.sh --upgrade --release enclave-V-linux-x64.tar.gz [options]
#                                  back up the database, install V beside the current version,
#                                  migrate, switch, restart the chat instances one by one behind
#                                  nginx; roll back (code, units, nginx) if they do not become ready
#   install.sh --uninstall [--purge --confirm NAME [--final-export DIR]]
#                                  remove; --purge also removes config, data, logs, the user and
#                                  the local database. It asks for the server name to be typed
#                                  (or --confirm NAME), refuses while a legal hold is active, and
#                                  offers a final signed audit export first (--final-export DIR).
# Without --release, the release this script is part of (its parent directory) is installed.
#
# Settings (kept in /etc/enclave/install.conf, the one source of truth: a flag given once is kept
# by every later run, re-run or upgrade, until it is given again with another value):
#   --database-url URL      use this Postgres (several hosts: h1:5432,h2:5432); otherwise a local
#                           Postgres (the distribution's package) gets a role and a database
#   --host ADDR             the address the apps listen on (ENCLAVE_HOST), where nginx and the
#                           readiness probes reach them [127.0.0.1]
#   --chat-instances N      chat instances on this host (ports 8080, 8083, 8084, …) [2]
#   --server-name NAME      the name clients use [the host name]
#   --cert FILE --key FILE  TLS certificate and key (copied to /etc/enclave/tls); otherwise a
#                           self-signed one is made
#   --admin-networks LIST   CIDRs that may reach /admin, /readyz, /metrics [127.0.0.1/32,::1/128]
#   --real-ip-from LIST     CIDRs of load balancers in front of nginx whose --real-ip-header
#                           names the client [none]
#   --real-ip-header NAME   [X-Forwarded-For]
#   --tls-profile P         modern (TLS 1.3) or intermediate (adds TLS 1.2) [modern]
#   --backup-stanza NAME    back up with pgBackRest (this stanza) before an upgrade; otherwise
#                           pg_dump writes /var/lib/enclave/backups/*.dump
# One run only:
#   --no-start              install and enable, but start nothing
#   --skip-backup           upgrade without a backup first
#   --db-admin-url URL      a superuser's URL to the Enclave database, used once to create the
#                           apps' own roles (enclave_chat, enclave_admin, enclave_audit) when the
#                           owner in --database-url may not (PostgreSQL 16+); never stored
#
# Every path can be moved, e.g. for a test into a throwaway root: ENCLAVE_ROOT (prefix of all
# below), ENCLAVE_PREFIX [/opt/enclave], ENCLAVE_ETC [/etc/enclave], ENCLAVE_STATE
# [/var/lib/enclave], ENCLAVE_LOGS [/var/log/enclave], ENCLAVE_UNIT_DIR [/etc/systemd/system],
# ENCLAVE_NGINX_DIR [/etc/nginx]. systemctl steps run only with systemd as PID 1 and no ENCLAVE_ROOT.
# ENCLAVE_HEALTHCHECK_CMD replaces the readiness check after an upgrade (tests).
# ENCLAVE_SYSTEMCTL names a stand-in for systemctl, which then also runs in ENCLAVE_ROOT (tests).
# ENCLAVE_NGINX_PID [/run/nginx.pid] is where nginx's master keeps its process id.
# ENCLAVE_MIN_FREE_MB [1024] is the free disk space the preflight asks for.
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
MIN_FREE_MB=${ENCLAVE_MIN_FREE_MB:-1024}
SVC_USER=enclave
# The audit app's own account: only it gets the signing key (docs/audit.md, "Custody").
AUDIT_USER=enclave-audit
ENV_FILE=$ETC/enclave.env
KEY_DIR=$ETC/audit
NGINX_PID=${ENCLAVE_NGINX_PID:-/run/nginx.pid}
SETTINGS=$ETC/install.conf
CHAT_BASE_PORT=8080
ADMIN_PORT=8081
AUDIT_PORT=8082
# The oldest PostgreSQL the migrations are tested on.
MIN_POSTGRES=150000

# Every setting install.conf keeps, with its default (an empty default: none, or computed).
SETTING_KEYS=(DATABASE_URL ENCLAVE_HOST CHAT_INSTANCES SERVER_NAME ADMIN_NETWORKS REAL_IP_FROM
  REAL_IP_HEADER TLS_PROFILE BACKUP_STANZA LOCAL_DATABASE)
declare -A DEFAULTS=(
  [DATABASE_URL]='' [ENCLAVE_HOST]=127.0.0.1 [CHAT_INSTANCES]=2 [SERVER_NAME]=''
  [ADMIN_NETWORKS]=127.0.0.1/32,::1/128 [REAL_IP_FROM]='' [REAL_IP_HEADER]=X-Forwarded-For
  [TLS_PROFILE]=modern [BACKUP_STANZA]='' [LOCAL_DATABASE]=0
)
declare -A FLAG=() STORED=() CONF=()

MODE=install RELEASE= CERT= KEY= PURGE=0 START=1 SKIP_BACKUP=0 CONFIRM= FINAL_EXPORT= DB_ADMIN_URL=
need_value() { [ $# -ge 2 ] || { echo "install.sh: $1 needs a value (see --help)" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --release) need_value "$@"; RELEASE=$2; shift 2 ;;
    --upgrade) MODE=upgrade; shift ;;
    --uninstall) MODE=uninstall; shift ;;
    --purge) PURGE=1; shift ;;
    --confirm) need_value "$@"; CONFIRM=$2; shift 2 ;;
    --final-export) need_value "$@"; FINAL_EXPORT=$2; shift 2 ;;
    --database-url) need_value "$@"; FLAG[DATABASE_URL]=$2; shift 2 ;;
    --host) need_value "$@"; FLAG[ENCLAVE_HOST]=$2; shift 2 ;;
    --chat-instances) need_value "$@"; FLAG[CHAT_INSTANCES]=$2; shift 2 ;;
    --server-name) need_value "$@"; FLAG[SERVER_NAME]=$2; shift 2 ;;
    --admin-networks) need_value "$@"; FLAG[ADMIN_NETWORKS]=$2; shift 2 ;;
    --real-ip-from) need_value "$@"; FLAG[REAL_IP_FROM]=$2; shift 2 ;;
    --real-ip-header) need_value "$@"; FLAG[REAL_IP_HEADER]=$2; shift 2 ;;
    --tls-profile) need_value "$@"; FLAG[TLS_PROFILE]=$2; shift 2 ;;
    --backup-stanza) need_value "$@"; FLAG[BACKUP_STANZA]=$2; shift 2 ;;
    --cert) need_value "$@"; CERT=$2; shift 2 ;;
    --key) need_value "$@"; KEY=$2; shift 2 ;;
    --no-start) START=0; shift ;;
    --skip-backup) SKIP_BACKUP=1; shift ;;
    --db-admin-url) need_value "$@"; DB_ADMIN_URL=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "enclave install: $*"; }
die() { echo "enclave install: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (sudo $0 …)"
[ -z "$CERT$KEY" ] || { [ -f "$CERT" ] && [ -f "$KEY" ]; } || die "--cert and --key must both name files"

# systemctl only where systemd runs this machine, and never into a throwaway root unless a test
# names its stand-in (ENCLAVE_SYSTEMCTL: runs the units of that root as plain processes).
SYSTEMCTL=${ENCLAVE_SYSTEMCTL:-systemctl}
if [ -n "${ENCLAVE_SYSTEMCTL:-}" ] || { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }; then
  HAVE_SYSTEMD=1
else
  HAVE_SYSTEMD=0
fi
systemctl_() { if [ "$HAVE_SYSTEMD" = 1 ]; then "$SYSTEMCTL" "$@"; else say "(no systemd as PID 1 here: skipped systemctl $*)"; fi; }

check_os() {
  [ -r /etc/os-release ] || return 0
  # shellcheck disable=SC1091
  . /etc/os-release
  case "${ID:-}:${VERSION_ID:-}" in
    debian:12*|debian:13*|ubuntu:2[2-9].*) ;;
    rhel:9*|rocky:9*|almalinux:9*) say "RHEL 9 family: see docs/operations.md for the differences" ;;
    *) say "warning: ${PRETTY_NAME:-this system} is not Debian 12 or Ubuntu 22.04+; going on" ;;
  esac
}

# ---- settings: install.conf, KEY=value lines read and written as data (never sourced, never
# passed through sed), so a value may hold &, |, ?, $ or spaces -----------------------------------
read_kv() { # FILE ARRAY-NAME: KEY=value lines of FILE into the associative array
  local file=$1 line
  local -n into=$2
  [ -f "$file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    [[ "$line" == *=* ]] || continue
    into[${line%%=*}]=${line#*=}
  done < "$file"
}

load_settings() {
  read_kv "$SETTINGS" STORED
  if [ ! -f "$SETTINGS" ] && [ -f "$ENV_FILE" ]; then
    # An installation from before install.conf: its env file knows the database and the address.
    local -A old=()
    read_kv "$ENV_FILE" old
    [ -z "${old[DATABASE_URL]:-}" ] || STORED[DATABASE_URL]=${old[DATABASE_URL]}
    [ -z "${old[ENCLAVE_HOST]:-}" ] || STORED[ENCLAVE_HOST]=${old[ENCLAVE_HOST]}
    [ ! -f "$ETC/.local-database" ] || STORED[LOCAL_DATABASE]=1
  fi
  local k
  for k in "${SETTING_KEYS[@]}"; do
    if [[ -v FLAG[$k] ]]; then CONF[$k]=${FLAG[$k]}
    elif [[ -v STORED[$k] ]]; then CONF[$k]=${STORED[$k]}
    else CONF[$k]=${DEFAULTS[$k]}
    fi
  done
  [ -n "${CONF[SERVER_NAME]}" ] || CONF[SERVER_NAME]=$(hostname -f 2>/dev/null || hostname)
  validate_settings
}

validate_settings() {
  local k v
  for k in "${SETTING_KEYS[@]}"; do
    v=${CONF[$k]}
    [[ "$v" != *$'\n'* && "$v" != *$'\r'* ]] || die "the value of $k holds a line break"
  done
  [[ "${CONF[CHAT_INSTANCES]}" =~ ^[1-9][0-9]?$ ]] || die "--chat-instances must be 1 to 99"
  [[ "${CONF[ENCLAVE_HOST]}" =~ ^[A-Za-z0-9.:-]+$ ]] || die "--host must be an IP address or a host name"
  [[ "${CONF[SERVER_NAME]}" =~ ^[A-Za-z0-9.*_-]+$ ]] || die "--server-name has odd characters"
  [[ "${CONF[TLS_PROFILE]}" =~ ^(modern|intermediate)$ ]] || die "--tls-profile must be modern or intermediate"
  [[ "${CONF[REAL_IP_HEADER]}" =~ ^[A-Za-z0-9-]+$ ]] || die "--real-ip-header must be a header name"
  [[ "${CONF[BACKUP_STANZA]}" =~ ^[A-Za-z0-9_.-]*$ ]] || die "--backup-stanza must be a stanza name"
  # systemd's EnvironmentFile and dotenv both read the env file: they agree on every character
  # except quotes, backslashes and '#', which a URL can always percent-encode.
  v=${CONF[DATABASE_URL]}
  [[ "$v" != *[\"\'\\#\ ]* ]] ||
    die "--database-url holds a quote, backslash, '#' or space: percent-encode it (%23 for #, %20 for a space)"
}

save_settings() {
  local k tmp=$SETTINGS.tmp
  install -d -m 0755 "$ETC"
  install -m 0600 /dev/null "$tmp"
  {
    echo "# Enclave install settings: the source of truth for every scripts/install.sh flag; a re-run"
    echo "# or an upgrade keeps them. Change one with its flag (install.sh --server-name …), or here."
    for k in "${SETTING_KEYS[@]}"; do printf '%s=%s\n' "$k" "${CONF[$k]}"; done
  } > "$tmp"
  mv "$tmp" "$SETTINGS"
}

env_put() { # KEY VALUE: set KEY in the env file, keeping every other line as it is
  local key=$1 value=$2 line found=0 tmp=$ENV_FILE.tmp
  install -m 0600 /dev/null "$tmp"
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ "$line" == "$key="* ]]; then
      [ "$found" = 1 ] || printf '%s=%s\n' "$key" "$value"
      found=1
    else
      printf '%s\n' "$line"
    fi
  done < "$ENV_FILE" > "$tmp"
  [ "$found" = 1 ] || printf '%s=%s\n' "$key" "$value" >> "$tmp"
  mv "$tmp" "$ENV_FILE"
}

env_default() { # KEY VALUE: add KEY unless the file has it (an operator's value always wins)
  grep -q "^$1=" "$ENV_FILE" || printf '%s=%s\n' "$1" "$2" >> "$ENV_FILE"
}

# An address inside a URL: IPv6 literals need brackets.
url_host() { if [[ "$1" == *:* ]]; then echo "[$1]"; else echo "$1"; fi; }

chat_ports() {
  local i ports=$CHAT_BASE_PORT
  for ((i = 1; i < CONF[CHAT_INSTANCES]; i++)); do ports="$ports $((AUDIT_PORT + i))"; done
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

files_intact() { # DIR: every file listed in DIR/SHA256SUMS has its checksum
  [ -f "$1/SHA256SUMS" ] || return 1
  (cd "$1" && sha256sum --check --quiet --strict SHA256SUMS >/dev/null 2>&1)
}

install_version() {
  local dest=$PREFIX/$VERSION
  [ "$SRC" = "$dest" ] && return 0
  if [ -f "$dest/VERSION" ] && [ "$(cat "$dest/VERSION")" = "$VERSION" ]; then
    if [ ! -f "$dest/SHA256SUMS" ]; then
      say "version $VERSION already in $dest (no SHA256SUMS in this release to check it against)"
      return
    fi
    if files_intact "$dest"; then
      say "version $VERSION already in $dest; every file matches SHA256SUMS"
      return
    fi
    say "files of $dest differ from SHA256SUMS: repairing from the release"
  fi
  if [ -f "$SRC/SHA256SUMS" ]; then
    files_intact "$SRC" || die "the release in $SRC does not match its own SHA256SUMS: get it again"
  fi
  mkdir -p "$PREFIX"
  rm -rf "$dest.new"
  cp -a "$SRC" "$dest.new"
  chown -R root:root "$dest.new"
  chmod -R go-w "$dest.new"
  rm -rf "$dest"
  mv "$dest.new" "$dest"
  say "installed version $VERSION in $dest"
}

# ---- preflight: what the installation needs, said before anything changes ---------------------
preflight() {
  local missing=() tool
  for tool in curl openssl tar sha256sum useradd pgrep; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    local pkgs=("${missing[@]/useradd/passwd}")
    die "preflight: missing ${missing[*]} (apt-get install ${pkgs[*]/pgrep/procps})"
  fi
  command -v nginx >/dev/null ||
    die "preflight: nginx is not installed; Enclave is served through it (apt-get install nginx)"

  local want have
  want=$(cd "$SRC" && "$SRC/bin/node" -p 'String(require("./package.json").engines?.node ?? "").match(/\d+/)?.[0] ?? "0"' 2>/dev/null) ||
    die "preflight: the release's Node.js ($SRC/bin/node) does not run on this machine"
  have=$("$SRC/bin/node" -p 'process.versions.node.split(".")[0]')
  [ "$have" -ge "$want" ] ||
    die "preflight: the release bundles Node.js $have, older than the $want its package.json needs; rebuild the release (npm run release)"

  local dir=$PREFIX free_kb
  until [ -d "$dir" ]; do dir=$(dirname "$dir"); done
  free_kb=$(df -Pk "$dir" | awk 'NR == 2 {print $4}')
  [ "$((free_kb / 1024))" -ge "$MIN_FREE_MB" ] ||
    die "preflight: $((free_kb / 1024)) MiB free under $dir, at least $MIN_FREE_MB MiB needed (ENCLAVE_MIN_FREE_MB)"

  # Ports: only where this run starts services and none of ours holds them yet.
  if [ "$HAVE_SYSTEMD" = 1 ] && [ "$START" = 1 ] && [ ! -f "$UNIT_DIR/enclave-admin.service" ]; then
    local port
    for port in $(chat_ports) $ADMIN_PORT $AUDIT_PORT; do
      if (exec 3<>"/dev/tcp/${CONF[ENCLAVE_HOST]}/$port") 2>/dev/null; then
        die "preflight: port $port on ${CONF[ENCLAVE_HOST]} is already in use (ss -ltnp 'sport = :$port')"
      fi
    done
  fi
}

check_postgres() { # the server behind DATABASE_URL answers and is new enough
  local num
  num=$(cd "$SRC" && DATABASE_URL=${CONF[DATABASE_URL]} "$SRC/bin/node" --input-type=module -e '
    import pg from "pg";
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 10000 });
    try { await c.connect(); const r = await c.query("SHOW server_version_num"); console.log(r.rows[0].server_version_num); }
    catch (e) { console.error(e.message); process.exit(1); } finally { await c.end().catch(() => {}); }
  ' 2>&1) || die "preflight: cannot reach PostgreSQL at --database-url: $num"
  [ "$num" -ge "$MIN_POSTGRES" ] ||
    die "preflight: PostgreSQL $((num / 10000)) is too old; Enclave needs $((MIN_POSTGRES / 10000)) or newer"
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
  if ! grep -q "^$AUDIT_USER:" "$ROOT/etc/passwd" 2>/dev/null; then
    useradd ${ROOT:+--root "$ROOT"} --system --user-group --home-dir /var/lib/enclave-audit \
      --no-create-home --shell /usr/sbin/nologin --comment "Enclave audit sealer" "$AUDIT_USER"
    say "created the system user $AUDIT_USER"
  fi
  SVC_UID=$(awk -F: -v u="$SVC_USER" '$1 == u {print $3}' "$ROOT/etc/passwd")
  SVC_GID=$(awk -F: -v u="$SVC_USER" '$1 == u {print $4}' "$ROOT/etc/passwd")
}

ensure_dirs() {
  install -d -m 0755 "$ETC"
  install -d -m 0700 -o "$SVC_UID" -g "$SVC_GID" "$STATE"
  # The public keyring is read by the admin app too; the key in it is root's alone (write_config).
  install -d -m 0755 "$KEY_DIR"
  install -d -m 0700 "$STATE/backups"
  install -d -m 0750 -o "$SVC_UID" -g "$SVC_GID" "$LOGS"
  install -d -m 0700 "$ETC/tls"
}

# The path the apps see: ENCLAVE_ROOT is where files go, not where the services will look.
in_system() { local p=$1; [ -z "$ROOT" ] || p=${p#"$ROOT"}; echo "${p:-/}"; }

write_config() {
  local fresh=0
  if [ ! -f "$ENV_FILE" ]; then
    fresh=1
    install -m 0600 /dev/null "$ENV_FILE"
    cat >> "$ENV_FILE" <<EOF
# Enclave configuration (README.md lists every key). Read by systemd for the services (mode 0600,
# root only). Keep CHAT_PORT out of this file: each chat instance's port is its unit's instance.
# DATABASE_URL and ENCLAVE_HOST come from install.conf (install.sh --database-url / --host).
EOF
  fi
  chmod 0600 "$ENV_FILE"
  chown root:root "$ENV_FILE"
  env_put ENCLAVE_HOST "${CONF[ENCLAVE_HOST]}"
  env_default ADMIN_PORT "$ADMIN_PORT"
  env_default AUDIT_PORT "$AUDIT_PORT"
  env_default ENCLAVE_DATA_DIR "$(in_system "$STATE")"
  env_default ENCLAVE_MASTER_KEY "$(openssl rand -base64 32)"
  env_default ENCLAVE_METRICS_TOKEN "$(openssl rand -hex 32)"
  # One migration run per install or upgrade (below), not one per starting process.
  env_default ENCLAVE_MIGRATE_ON_START false
  [ "$fresh" = 0 ] || say "wrote $ENV_FILE (mode 0600) with generated secrets"

  env_default AUDIT_SIGNING_KEY_FILE "$(in_system "$KEY_DIR/signing-key.pem")"
  env_default AUDIT_KEYRING_FILE "$(in_system "$KEY_DIR/keyring.json")"

  # root:root 0600: systemd hands the audit unit a copy (LoadCredential=), and no other user reads
  # it. Installations from before kept it, readable by the chat user, in the data directory.
  local key=$KEY_DIR/signing-key.pem old
  for old in signing-key.pem keyring.json; do
    if [ -f "$STATE/audit/$old" ] && [ ! -f "$KEY_DIR/$old" ]; then
      mv "$STATE/audit/$old" "$KEY_DIR/$old"
      say "moved $STATE/audit/$old to $KEY_DIR (the audit app alone reads the key now)"
    fi
  done
  rmdir "$STATE/audit" 2>/dev/null || true
  if [ ! -f "$key" ]; then
    (umask 077 && openssl genpkey -algorithm ed25519 -out "$key")
    say "generated the audit signing key $key (back it up: it proves the audit trail)"
  fi
  chown root:root "$key"
  chmod 0600 "$key"
}

publish_keyring() { # a keyring with this host's public key, so the admin app verifies checkpoints
  local ring=$KEY_DIR/keyring.json pub
  if [ ! -f "$ring" ]; then
    pub=$(mktemp)
    enclave_cli "$VERSION" audit pubkey > "$pub" &&
      enclave_cli "$VERSION" audit keyring add "$pub" --label "audit@${CONF[SERVER_NAME]}" >/dev/null ||
      { rm -f "$pub"; die "could not publish the audit keyring $ring"; }
    rm -f "$pub"
    say "published the keyring $ring with this host's audit key (other audit hosts: docs/audit.md)"
  fi
  chmod 0644 "$ring"
}

# Each app its own database role (docs/audit.md, "Database roles"): chat and admin may append
# audit events but never change them. The roles are made once per database: a new password on
# every run would lock out the instances still running during a rolling upgrade.
app_roles() {
  local app stamp made=1 out
  stamp=$(printf '%s' "${CONF[DATABASE_URL]}" | sha256sum | cut -c1-16)
  for app in chat admin audit; do
    grep -qx "# database: $stamp" "$ETC/$app.env" 2>/dev/null || made=0
  done
  [ "$made" = 0 ] || return 0
  local cli=("$PREFIX/$VERSION/bin/enclave" db create-roles --app-url "${CONF[DATABASE_URL]}")
  if [ -n "$DB_ADMIN_URL" ]; then
    out=$(env ENCLAVE_CONFIG= DATABASE_URL="$DB_ADMIN_URL" "${cli[@]}")
  elif [ "${CONF[LOCAL_DATABASE]}" = 1 ]; then
    # The local server's superuser, over its socket (peer authentication).
    out=$(cd / && runuser -u postgres -- env ENCLAVE_CONFIG= \
      DATABASE_URL='postgresql://postgres@/enclave?host=/var/run/postgresql' "${cli[@]}")
  else
    out=$(enclave_cli "$VERSION" db create-roles)
  fi || die "could not create the apps' database roles (above); the owner in --database-url may not on PostgreSQL 16+: give --db-admin-url (a superuser's URL to the same database)"
  local role url tmp
  while IFS=$'\t' read -r app role url; do
    [[ "$app" =~ ^(chat|admin|audit)$ ]] || continue
    tmp=$ETC/$app.env.tmp
    install -m 0600 /dev/null "$tmp"
    {
      echo "# The $app app's own settings (install.sh); they win over enclave.env for its unit."
      echo "# database: $stamp"
      printf 'DATABASE_URL=%s\n' "$url"
      [ "$app" != audit ] || echo "ENCLAVE_DATA_DIR=/var/lib/enclave-audit"
    } > "$tmp"
    mv "$tmp" "$ETC/$app.env"
  done <<< "$out"
  for app in chat admin audit; do
    grep -qx "# database: $stamp" "$ETC/$app.env" || die "enclave db create-roles gave no URL for $app"
  done
  say "the apps connect with their own roles (enclave_chat, enclave_admin, enclave_audit)"
}

# ---- the database ------------------------------------------------------------------------------
setup_database() {
  if [ -z "${CONF[DATABASE_URL]}" ]; then
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
    CONF[DATABASE_URL]="postgres://enclave:$password@127.0.0.1:5432/enclave"
    CONF[LOCAL_DATABASE]=1
    save_settings
    say "created the role and database enclave in the local PostgreSQL"
  fi
  env_put DATABASE_URL "${CONF[DATABASE_URL]}"
}

enclave_cli() { # runs the enclave command of version $1 with the installed configuration
  local version=$1; shift
  # In a throwaway root the data directory the services will see is not where it is now.
  local where=()
  [ -z "$ROOT" ] ||
    where=("ENCLAVE_DATA_DIR=$STATE" "AUDIT_SIGNING_KEY_FILE=$KEY_DIR/signing-key.pem" "AUDIT_KEYRING_FILE=$KEY_DIR/keyring.json")
  env ENCLAVE_CONFIG="$ENV_FILE" "${where[@]}" "$PREFIX/$version/bin/enclave" "$@"
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

backup_database() { # before an upgrade's migrations: pgBackRest when configured, else pg_dump
  if [ "$SKIP_BACKUP" = 1 ]; then say "no backup before the upgrade (--skip-backup)"; return; fi
  if [ -n "${CONF[BACKUP_STANZA]}" ]; then
    command -v pgbackrest >/dev/null || die "--backup-stanza is set but pgbackrest is not installed"
    say "backing up with pgBackRest (stanza ${CONF[BACKUP_STANZA]}) before upgrading"
    pgbackrest --stanza="${CONF[BACKUP_STANZA]}" --type=incr backup ||
      die "the pgBackRest backup failed; nothing was upgraded (--skip-backup to go on without one)"
    return
  fi
  command -v pg_dump >/dev/null ||
    die "no backup tool: install postgresql-client (pg_dump), set --backup-stanza, or pass --skip-backup"
  local file
  file=$STATE/backups/enclave-before-$VERSION-$(date -u +%Y%m%dT%H%M%SZ).dump
  say "backing up the database to $file before upgrading"
  (umask 077 && pg_dump --format=custom --file="$file" --dbname="${CONF[DATABASE_URL]}") ||
    { rm -f "$file"; die "pg_dump failed; nothing was upgraded (--skip-backup to go on without one)"; }
}

# ---- systemd units and nginx ------------------------------------------------------------------
install_units() {
  install -d -m 0755 "$UNIT_DIR"
  local f
  for f in "$PREFIX/$VERSION"/deploy/systemd/*; do
    # The paths are the installer's own (not operator values): a fixed rewrite of two prefixes.
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

render_nginx() { # [--upstream-only] [chat ports…]: the site from install.conf, by this version's kit
  local only=() host chat="" p ports
  if [ "${1:-}" = --upstream-only ]; then only=(--upstream-only); shift; fi
  if [ $# -gt 0 ]; then ports=("$@"); else read -r -a ports <<< "$(chat_ports)"; fi
  host=$(url_host "${CONF[ENCLAVE_HOST]}")
  for p in "${ports[@]}"; do chat="$chat${chat:+,}$host:$p"; done
  local args=(--out "$NGINX_DIR/enclave" --chat "$chat" --admin "$host:$ADMIN_PORT"
    --admin-networks "${CONF[ADMIN_NETWORKS]}" --server-name "${CONF[SERVER_NAME]}"
    --cert "$ETC/tls/enclave.crt" --key "$ETC/tls/enclave.key" --tls "${CONF[TLS_PROFILE]}"
    --static-root "$PREFIX/current/dist/apps/chat/web" --etc-dir "$ETC")
  local render=$PREFIX/$VERSION/deploy/nginx/render.mjs
  # A roll back may render with an older kit that has no real_ip options yet.
  if grep -q -- "'real-ip-from'" "$render"; then
    args+=(--real-ip-header "${CONF[REAL_IP_HEADER]}")
    [ -z "${CONF[REAL_IP_FROM]}" ] || args+=(--real-ip-from "${CONF[REAL_IP_FROM]}")
  fi
  "$PREFIX/$VERSION/bin/node" "$render" "${args[@]}" "${only[@]}" ||
    die "the nginx site could not be rendered from $SETTINGS"
}

nginx_children() { # the worker processes of the nginx master in NGINX_PID, sorted
  local master
  master=$(cat "$NGINX_PID" 2>/dev/null) && [ -n "$master" ] || return 0
  pgrep -P "$master" | sort || true
}

reload_nginx() {
  # The host's nginx -t says nothing of a site written into a throwaway root.
  if [ -z "$ROOT" ]; then nginx -t -q || die "nginx -t fails with the Enclave site"; fi
  [ "$HAVE_SYSTEMD" = 1 ] || return 0
  local before after
  before=$(nginx_children)
  systemctl_ reload-or-restart nginx
  # A reload returns before it is done: until the new workers run, the old ones still send requests
  # by the previous upstream, so an instance taken out could still get requests (and the rolling
  # upgrade restarts it next). Wait for the new workers; the old ones are told to stop accepting
  # as they start (a moment more for them to read that).
  [ -n "$before" ] || return 0
  for _ in $(seq 150); do
    after=$(nginx_children)
    if [ -n "$(comm -13 <(echo "$before") <(echo "$after"))" ]; then sleep 0.5; return 0; fi
    sleep 0.1
  done
  say "warning: nginx started no new workers within 15 s of the reload"
}

install_nginx() {
  local site=$NGINX_DIR/enclave
  install -d -m 0755 "$site"
  if [ -n "$CERT" ]; then
    install -m 0644 "$CERT" "$ETC/tls/enclave.crt"
    install -m 0600 "$KEY" "$ETC/tls/enclave.key"
  elif [ ! -f "$ETC/tls/enclave.crt" ]; then
    local name=${CONF[SERVER_NAME]}
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
      -subj "/CN=$name" -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
      -keyout "$ETC/tls/enclave.key" -out "$ETC/tls/enclave.crt" 2>/dev/null
    chmod 0600 "$ETC/tls/enclave.key"
    say "made a self-signed certificate for $name (replace it: --cert/--key)"
  fi
  rm -f "$ETC/nginx.args" # before install.conf, scripts/scale read the render options from it
  render_nginx
  if [ -d "$NGINX_DIR/sites-enabled" ] || [ -d "$NGINX_DIR/sites-available" ]; then
    install -d "$NGINX_DIR/sites-enabled"
    ln -sfn "$site/enclave.conf" "$NGINX_DIR/sites-enabled/enclave.conf"
  else
    install -d "$NGINX_DIR/conf.d"
    ln -sfn "$site/enclave.conf" "$NGINX_DIR/conf.d/enclave.conf"
  fi
  # Thousands of streams: worker limits in nginx.conf's main and events contexts (tuning.mjs).
  if [ -f "$NGINX_DIR/nginx.conf" ] && [ -f "$PREFIX/$VERSION/deploy/nginx/tuning.mjs" ]; then
    "$PREFIX/$VERSION/bin/node" "$PREFIX/$VERSION/deploy/nginx/tuning.mjs" install \
      --nginx-conf "$NGINX_DIR/nginx.conf" --dir "$site" ||
      die "could not size nginx.conf for Enclave (see the message above)"
  fi
  reload_nginx
  say "installed the nginx site in $site (chat instances: $(chat_ports))"
}

switch_to() { # point current at version $1
  ln -sfn "$1" "$PREFIX/current.new"
  mv -T "$PREFIX/current.new" "$PREFIX/current"
}

ready() { # PORT: the app on PORT answers /readyz at the configured address
  [ "$HAVE_SYSTEMD" = 1 ] && [ "$START" = 1 ] || return 0
  local url deadline=$((SECONDS + 90))
  url="http://$(url_host "${CONF[ENCLAVE_HOST]}"):$1/readyz"
  until curl -fsS -o /dev/null "$url"; do
    [ $SECONDS -lt $deadline ] || { say "$url is not ready"; return 1; }
    sleep 1
  done
}

healthy() {
  if [ -n "${ENCLAVE_HEALTHCHECK_CMD:-}" ]; then bash -c "$ENCLAVE_HEALTHCHECK_CMD"; return; fi
  local port
  for port in $(chat_ports) $ADMIN_PORT $AUDIT_PORT; do ready "$port" || return 1; done
}

stop_extra_chat_units() { # instances beyond --chat-instances (scaled down since)
  [ "$HAVE_SYSTEMD" = 1 ] || return 0
  local unit port
  for unit in $("$SYSTEMCTL" list-units --all --plain --no-legend 'enclave-chat@*.service' | awk '{print $1}'); do
    port=${unit#enclave-chat@}; port=${port%.service}
    [[ " $(chat_ports) " == *" $port "* ]] || "$SYSTEMCTL" disable --now "$unit"
  done
}

start_all() { # a fresh install (or a roll back): everything at once
  [ "$START" = 1 ] || { say "not starting (--no-start)"; return; }
  local units="enclave-admin.service enclave-audit.service" p
  for p in $(chat_ports); do units="$units enclave-chat@$p.service"; done
  systemctl_ daemon-reload
  # shellcheck disable=SC2086
  systemctl_ enable enclave.target $units
  # shellcheck disable=SC2086
  systemctl_ restart $units
  stop_extra_chat_units
}

restart_rolling() { # an upgrade: admin and audit, then each chat instance out of nginx, restarted, back
  [ "$START" = 1 ] || { say "not restarting (--no-start)"; return; }
  [ "$HAVE_SYSTEMD" = 1 ] || { say "(no systemd as PID 1 here: skipped the rolling restart)"; return; }
  systemctl_ daemon-reload
  systemctl_ enable enclave.target enclave-admin.service enclave-audit.service
  systemctl_ restart enclave-admin.service enclave-audit.service
  local ports p q others
  read -r -a ports <<< "$(chat_ports)"
  for p in "${ports[@]}"; do
    others=()
    for q in "${ports[@]}"; do [ "$q" = "$p" ] || others+=("$q"); done
    if [ ${#others[@]} -gt 0 ]; then render_nginx --upstream-only "${others[@]}"; reload_nginx; fi
    systemctl_ enable "enclave-chat@$p.service"
    systemctl_ restart "enclave-chat@$p.service"
    ready "$p" || return 1
  done
  render_nginx --upstream-only
  reload_nginx
  stop_extra_chat_units
}

# ---- the three modes ---------------------------------------------------------------------------
do_install() {
  check_os
  unpack_release
  load_settings
  preflight
  [ -z "${CONF[DATABASE_URL]}" ] || check_postgres
  install_version
  ensure_user
  ensure_dirs
  save_settings
  write_config
  setup_database
  migrate "$VERSION"
  app_roles
  publish_keyring
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
  load_settings
  [ -n "${CONF[DATABASE_URL]}" ] || die "no DATABASE_URL in $SETTINGS or $ENV_FILE: is Enclave installed?"
  preflight
  check_postgres
  install_version
  ensure_user
  ensure_dirs
  save_settings
  write_config
  env_put DATABASE_URL "${CONF[DATABASE_URL]}"
  backup_database
  # Migrations are additive (a landed migration is never edited), so the previous version keeps
  # working on the migrated schema if we have to roll back.
  migrate "$VERSION"
  app_roles
  publish_keyring
  switch_to "$VERSION"
  install_units
  install_nginx
  if restart_rolling && healthy; then
    say "upgraded $previous → $VERSION ($PREFIX/$previous is kept for a manual roll back)"
    return
  fi
  say "version $VERSION is not healthy: rolling back to $previous (code, units and nginx)"
  VERSION=$previous
  switch_to "$previous"
  install_units
  install_nginx
  start_all
  die "upgrade failed and was rolled back to $previous; see journalctl -u 'enclave-*'"
}

confirm_purge() { # the one step that destroys evidence: a typed name, no legal hold, an export
  local name=${CONF[SERVER_NAME]} typed=$CONFIRM
  if [ -z "$typed" ] && [ -t 0 ]; then
    read -r -p "This deletes the database, the audit trail and its signing key. Type the server name ($name) to go on: " typed
  fi
  [ "$typed" = "$name" ] ||
    die "--purge deletes the database and the audit trail: confirm with the server name (--confirm $name); nothing was removed"
  # Legal holds: through the installed enclave command, or straight from the table once the code
  # is gone (an --uninstall before this --purge).
  local version='' holds
  if version=$(readlink "$PREFIX/current" 2>/dev/null) && [ -x "$PREFIX/$version/bin/enclave" ]; then
    holds=$(enclave_cli "$version" audit holds --active --count 2>&1) ||
      die "--purge could not check legal holds ($holds); nothing was removed"
  elif command -v psql >/dev/null; then
    version=''
    holds=$(psql "${CONF[DATABASE_URL]}" -XAtq -c 'SELECT count(*) FROM audit_legal_holds WHERE released_at IS NULL' 2>&1) ||
      die "--purge could not check legal holds ($holds); nothing was removed"
  else
    die "--purge cannot check legal holds: neither the enclave command nor psql is here; nothing was removed"
  fi
  [ "$holds" = 0 ] ||
    die "--purge refused: $holds legal hold(s) are active (enclave audit holds); release them first; nothing was removed"
  if [ -z "$FINAL_EXPORT" ] && [ -t 0 ]; then
    read -r -p "Directory for a final signed audit export (empty: none): " FINAL_EXPORT
  fi
  if [ -n "$FINAL_EXPORT" ]; then
    [ -n "$version" ] || die "a final export needs the installed code: install again, then --purge; nothing was removed"
    install -d -m 0700 "$FINAL_EXPORT"
    enclave_cli "$version" audit export --out "$FINAL_EXPORT" --name enclave-final ||
      die "the final export failed; nothing was removed"
    say "final signed audit export in $FINAL_EXPORT (verify: enclave audit verify $FINAL_EXPORT/enclave-final.manifest.json)"
  else
    say "no final audit export (--final-export DIR makes one)"
  fi
}

do_uninstall() {
  if [ "$PURGE" = 1 ]; then
    load_settings
    confirm_purge
  fi
  # shellcheck disable=SC2046
  systemctl_ disable --now enclave.target $(cd "$UNIT_DIR" 2>/dev/null && ls enclave-*.service 2>/dev/null | grep -v '@\.service' || true)
  local chat
  for chat in $("$SYSTEMCTL" list-units --plain --no-legend 'enclave-chat@*' 2>/dev/null | awk '{print $1}'); do
    systemctl_ disable --now "$chat"
  done
  rm -f "$UNIT_DIR"/enclave.target "$UNIT_DIR"/enclave-*.service
  rm -f "$NGINX_DIR/sites-enabled/enclave.conf" "$NGINX_DIR/conf.d/enclave.conf"
  if [ -f "$NGINX_DIR/nginx.conf" ] && [ -f "$PREFIX/current/deploy/nginx/tuning.mjs" ]; then
    "$PREFIX/current/bin/node" "$PREFIX/current/deploy/nginx/tuning.mjs" remove \
      --nginx-conf "$NGINX_DIR/nginx.conf" --dir "$NGINX_DIR/enclave" || true
  fi
  rm -rf "$NGINX_DIR/enclave"
  systemctl_ daemon-reload
  [ -z "$ROOT" ] && command -v nginx >/dev/null && systemctl_ reload nginx || true
  rm -rf "$PREFIX"
  if [ "$PURGE" = 1 ]; then
    if [ "${CONF[LOCAL_DATABASE]}" = 1 ] && command -v psql >/dev/null; then
      runuser -u postgres -- psql -XAtq -c 'DROP DATABASE IF EXISTS enclave WITH (FORCE)' \
        -c 'DROP ROLE IF EXISTS enclave_chat, enclave_admin, enclave_audit, enclave' || true
    fi
    rm -rf "$ETC" "$STATE" "$LOGS"
    local user
    for user in "$SVC_USER" "$AUDIT_USER"; do
      if grep -q "^$user:" "$ROOT/etc/passwd" 2>/dev/null; then userdel ${ROOT:+--root "$ROOT"} "$user"; fi
    done
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
