import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Config } from '@enclave/config';
import type { Finding } from './doctor.js';

const run = promisify(execFile);
const TIMEOUT_MS = 5_000;
/** A replica further behind than this (bytes of WAL) is reported. */
const LAG_WARN_BYTES = 16 * 1024 * 1024;
const BACKUP_WARN_HOURS = 26;

interface Member {
  name: string;
  role: string;
  state: string;
  host: string;
  port: number;
  lag?: number | string;
}

/**
 * The Patroni cluster as `enclave doctor` reports it: the leader, each replica with its state and
 * lag, whether a synchronous standby exists (else commits are not confirmed by a second copy),
 * and, where pgBackRest is configured on this machine, the last backup's age and WAL archiving.
 */
export async function checkCluster(config: Config, pgbackrestConfig: string): Promise<Finding[]> {
  if (!config.database.patroniUrls.length) {
    // A single server may be backed up with pgBackRest too: report it when configured here.
    return existsSync(pgbackrestConfig) ? [await checkBackups(pgbackrestConfig)] : [];
  }
  const findings: Finding[] = [];
  const { members, errors } = await clusterView(config.database.patroniUrls);
  for (const e of errors) {
    findings.push({
      check: 'patroni',
      verdict: 'warn',
      message: e,
      fix: 'is Patroni running on that node (systemctl status patroni@15-main)? Its REST port reachable from here?',
    });
  }
  const leaders = members.filter((m) => m.role === 'leader');
  if (leaders.length !== 1) {
    findings.push({
      check: 'patroni',
      verdict: 'fail',
      message: leaders.length ? `${leaders.length} leaders` : 'no leader: writes answer 503',
      fix: 'patronictl list; if no node can lead, see "Failover" in docs/operations.md',
    });
    return findings;
  }
  const leader = leaders[0]!;
  findings.push({
    check: 'patroni',
    verdict: leader.state === 'running' ? 'ok' : 'fail',
    message: `leader ${leader.name} (${leader.host}:${leader.port}) ${leader.state}`,
  });
  const replicas = members.filter((m) => m.role !== 'leader');
  for (const r of replicas) {
    const lag = typeof r.lag === 'number' ? r.lag : null;
    const healthy = r.state === 'running' && lag !== null && lag < LAG_WARN_BYTES;
    findings.push({
      check: 'patroni',
      verdict: healthy ? 'ok' : 'warn',
      message: `${r.role === 'sync_standby' ? 'synchronous standby' : 'replica'} ${r.name} ${r.state}, lag ${lag === null ? String(r.lag ?? 'unknown') : `${lag} bytes`}`,
      fix: healthy
        ? undefined
        : 'check its Patroni log; rebuild it with `patronictl reinit` (docs/operations.md, "Node rebuild")',
    });
  }
  const sync = replicas.some((r) => r.role === 'sync_standby' && r.state === 'running');
  findings.push({
    check: 'patroni',
    verdict: sync ? 'ok' : 'warn',
    message: sync
      ? 'synchronous replication: every commit is on two servers'
      : 'no synchronous standby: commits are on the leader only until a standby is back',
    fix: sync ? undefined : 'start or rebuild a standby (docs/operations.md, "Lost standby")',
  });
  findings.push(await checkBackups(pgbackrestConfig));
  return findings;
}

async function clusterView(urls: string[]): Promise<{ members: Member[]; errors: string[] }> {
  const errors: string[] = [];
  let members: Member[] | null = null;
  for (const url of urls) {
    try {
      const res = await fetch(`${url.replace(/\/+$/, '')}/cluster`, {
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`answered ${res.status}`);
      members ??= ((await res.json()) as { members: Member[] }).members;
    } catch (err) {
      errors.push(`${url} does not answer: ${(err as Error).message}`);
    }
  }
  return { members: members ?? [], errors };
}

interface BackupInfo {
  status: { code: number; message: string };
  backup: { type: string; timestamp: { stop: number } }[];
  archive: { max: string | null }[];
}

/** `pgbackrest info`: the newest backup's age and the newest archived WAL. */
export async function checkBackups(configFile: string): Promise<Finding> {
  if (!existsSync(configFile)) {
    return {
      check: 'backup',
      verdict: 'warn',
      message: `no pgBackRest configuration at ${configFile} on this machine`,
      fix: 'run doctor on a database node, or pass --pgbackrest-config (deploy/pgbackrest)',
    };
  }
  try {
    const { stdout } = await run(
      'pgbackrest',
      [`--config=${configFile}`, '--stanza=enclave', '--output=json', 'info'],
      { timeout: 30_000 },
    );
    const [info] = JSON.parse(stdout) as BackupInfo[];
    const last = info?.backup.at(-1);
    if (!info || !last) {
      return {
        check: 'backup',
        verdict: 'fail',
        message: `no backup in the repository (${info?.status.message ?? 'no stanza'})`,
        fix: 'deploy/pgbackrest/backup.sh full (as postgres on the leader), and enable the timers',
      };
    }
    const hours = (Date.now() / 1000 - last.timestamp.stop) / 3600;
    const archived = info.archive.at(-1)?.max ?? 'none';
    const fresh = hours < BACKUP_WARN_HOURS && info.status.code === 0;
    return {
      check: 'backup',
      verdict: fresh ? 'ok' : 'warn',
      message: `last ${last.type} backup ${hours.toFixed(1)} h ago; newest archived WAL ${archived}; ${info.status.message}`,
      fix: fresh
        ? undefined
        : 'are the enclave-backup timers enabled (systemctl list-timers)? Check /var/log/pgbackrest',
    };
  } catch (err) {
    return {
      check: 'backup',
      verdict: 'fail',
      message: `pgbackrest info failed: ${(err as Error).message.split('\n')[0]}`,
      fix: 'run `pgbackrest --stanza=enclave check` as postgres on the leader and fix what it says',
    };
  }
}
