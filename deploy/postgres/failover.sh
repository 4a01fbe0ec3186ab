#!/usr/bin/env bash
# Kept for operators used to it: Patroni fails over by itself (docs/operations.md, "Failover").
# This is the manual form, for when no node can lead on its own (e.g. every candidate is tagged
# nofailover): promotes CANDIDATE through Patroni, which fences the old leader.
#   failover.sh [--config /etc/patroni/15-main.yml] --candidate NAME
set -euo pipefail
CONFIG=/etc/patroni/15-main.yml CANDIDATE=
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG=$2; shift 2 ;; --candidate) CANDIDATE=$2; shift 2 ;;
    *) echo "failover.sh: unknown option $1 (Patroni manages Postgres now: see docs/operations.md)" >&2; exit 2 ;;
  esac
done
[ -n "$CANDIDATE" ] || { echo "failover.sh: --candidate NAME is required (patronictl -c $CONFIG list)" >&2; exit 2; }
exec patronictl -c "$CONFIG" failover --candidate "$CANDIDATE" --force
