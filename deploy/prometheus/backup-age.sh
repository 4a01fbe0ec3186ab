#!/usr/bin/env bash
# Writes the time of the last completed pgBackRest backup of each stanza for node_exporter's
# textfile collector (pgbackrest_backup_last_completed_timestamp_seconds{stanza=…}), which the
# EnclaveBackupTooOld alert reads. Run it from a timer on the host that runs the backups, e.g.
#   OnCalendar=*:0/15  ExecStart=/opt/enclave/current/deploy/prometheus/backup-age.sh
# Output directory: $1 [/var/lib/prometheus/node-exporter] (node_exporter --collector.textfile.directory).
set -euo pipefail
out=${1:-/var/lib/prometheus/node-exporter}
json=$(pgbackrest info --output=json)
{
  echo '# HELP pgbackrest_backup_last_completed_timestamp_seconds Stop time of the newest backup.'
  echo '# TYPE pgbackrest_backup_last_completed_timestamp_seconds gauge'
  printf '%s' "$json" | /opt/enclave/current/bin/node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      for (const st of JSON.parse(s)) {
        const stops = (st.backup ?? []).map((b) => b.timestamp?.stop ?? 0);
        if (stops.length) console.log(`pgbackrest_backup_last_completed_timestamp_seconds{stanza="${st.name}"} ${Math.max(...stops)}`);
      }
    });'
} > "$out/pgbackrest.prom.tmp"
mv "$out/pgbackrest.prom.tmp" "$out/pgbackrest.prom"
