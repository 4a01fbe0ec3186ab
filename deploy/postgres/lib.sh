# Shared by the deploy/postgres scripts (sourced, not run).
# PGBIN: the server binaries (Debian/Ubuntu /usr/lib/postgresql/N/bin, RHEL /usr/pgsql-N/bin).
set -euo pipefail

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
say() { echo "$(basename "$0"): $*"; }

find_pgbin() {
  if [ -n "${PGBIN:-}" ]; then echo "$PGBIN"; return; fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin /usr/pgsql-*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  command -v pg_ctl >/dev/null && { dirname "$(command -v pg_ctl)"; return; }
  die "cannot find the Postgres binaries; set PGBIN"
}

# Refuse to run as root: Postgres itself does, and files made here must belong to its owner.
not_root() {
  [ "$(id -u)" != 0 ] || die "run as the postgres user (e.g. runuser -u postgres -- $0 …)"
}

# Start/stop a data directory: with --cluster V/NAME through Debian's pg_ctlcluster (so systemd
# knows), otherwise with pg_ctl.
pg_start() {
  if [ -n "${CLUSTER:-}" ]; then pg_ctlcluster "${CLUSTER%/*}" "${CLUSTER#*/}" start
  else "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 60 -l "${PGLOG:-$PGDATA/server.log}" start >/dev/null; fi
}
pg_stop() {
  if [ -n "${CLUSTER:-}" ]; then pg_ctlcluster "${CLUSTER%/*}" "${CLUSTER#*/}" stop -m fast || true
  else "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 60 -m fast stop >/dev/null 2>&1 || true; fi
}
is_running() { "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

# A conninfo value quoted for primary_conninfo.
quote_conninfo() { local v=${1//\\/\\\\}; v=${v//\'/\\\'}; printf "'%s'" "$v"; }
