#!/usr/bin/env bash
# A stand-in for systemctl (install.sh's ENCLAVE_SYSTEMCTL) that runs the units installed into a
# throwaway root (ENCLAVE_ROOT) as plain background processes: ExecStart= with the unit's
# Environment= and then EnvironmentFile= values (later files win, as in systemd), %i replaced.
# The paths the services would see on a real host are mapped into the root. `reload-or-restart
# nginx` reloads the nginx started with STANDIN_NGINX_CONF. Verbs: restart, start, stop,
# stop-all; enable, disable, daemon-reload, list-units do nothing (there is nothing to list).
set -euo pipefail
ROOT=${ENCLAVE_ROOT:?the stand-in needs ENCLAVE_ROOT}
UNITS=$ROOT/etc/systemd/system
RUN=$ROOT/run/standin
mkdir -p "$RUN"

unit_file() { # UNIT: its file (a template for name@instance) and the instance
  local unit=$1 inst=''
  if [[ "$unit" == *@*.service ]]; then
    inst=${unit#*@}; inst=${inst%.service}
    echo "$UNITS/${unit%%@*}@.service" "$inst"
  else
    echo "$UNITS/$unit" ''
  fi
}

start() {
  local file inst line key vars=() files=() exec=''
  read -r file inst <<< "$(unit_file "$1")"
  [ -f "$file" ] || { echo "standin: no unit $1" >&2; exit 5; }
  while IFS= read -r line; do
    line=${line//%i/$inst}
    case "$line" in
      Environment=*) vars+=("${line#Environment=}") ;;
      EnvironmentFile=*) files+=("${line#EnvironmentFile=}") ;;
      ExecStart=*) exec=${line#ExecStart=} ;;
    esac
  done < "$file"
  for f in "${files[@]}"; do
    f=${f#-}
    [ -f "$f" ] || continue
    while IFS= read -r line || [ -n "$line" ]; do
      case "$line" in '' | '#'*) continue ;; esac
      vars+=("$line")
    done < "$f"
  done
  # What a host's paths are inside the root.
  vars+=("ENCLAVE_DATA_DIR=$ROOT/var/lib/enclave"
    "AUDIT_SIGNING_KEY_FILE=$ROOT/etc/enclave/audit/signing-key.pem"
    "AUDIT_KEYRING_FILE=$ROOT/etc/enclave/audit/keyring.json")
  # shellcheck disable=SC2086
  setsid env -i PATH="$PATH" "${vars[@]}" $exec >> "$RUN/$1.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$1.pid"
}

stop() {
  local pid
  [ -f "$RUN/$1.pid" ] || return 0
  pid=$(cat "$RUN/$1.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN/$1.pid"
}

verb=${1:?}; shift
while [ $# -gt 0 ] && [[ "$1" == --* ]]; do shift; done
case "$verb" in
  daemon-reload | enable | disable | list-units) ;;
  reload-or-restart | reload)
    [ "$1" = nginx ] || { echo "standin: cannot reload $1" >&2; exit 1; }
    nginx -c "${STANDIN_NGINX_CONF:?}" -s reload ;;
  start) for u in "$@"; do start "$u"; done ;;
  restart) for u in "$@"; do stop "$u"; start "$u"; done ;;
  stop) for u in "$@"; do stop "$u"; done ;;
  stop-all) for f in "$RUN"/*.pid; do [ -f "$f" ] || continue; u=$(basename "$f" .pid); stop "$u"; done ;;
  *) echo "standin: $verb is not supported" >&2; exit 1 ;;
esac
