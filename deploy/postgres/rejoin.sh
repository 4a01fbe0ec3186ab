#!/usr/bin/env bash
# Kept for operators used to it: under Patroni an old leader rejoins by itself (pg_rewind,
# use_pg_rewind: true) when its Patroni starts. This rebuilds a member that cannot rejoin (its
# data directory is lost or damaged) as a fresh copy of the leader (docs/operations.md, "Node rebuild").
#   rejoin.sh [--config /etc/patroni/15-main.yml] --member NAME
set -euo pipefail
CONFIG=/etc/patroni/15-main.yml MEMBER=
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG=$2; shift 2 ;; --member) MEMBER=$2; shift 2 ;;
    *) echo "rejoin.sh: unknown option $1 (Patroni manages Postgres now: see docs/operations.md)" >&2; exit 2 ;;
  esac
done
[ -n "$MEMBER" ] || { echo "rejoin.sh: --member NAME is required (patronictl -c $CONFIG list)" >&2; exit 2; }
scope=$(sed -n 's/^scope: *//p' "$CONFIG")
exec patronictl -c "$CONFIG" reinit "$scope" "$MEMBER" --force
