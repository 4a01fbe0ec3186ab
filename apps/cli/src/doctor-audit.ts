import {
  advisoryLockHolder,
  AuditChainRepository,
  type LockHolder,
  SEALER_LOCK,
  SIEM_FORWARDER_LOCK,
  SiemCursorRepository,
} from '@enclave/audit-chain';
import type { Config } from '@enclave/config';
import { databaseUrl, pgClient, type Sql, sqlOfClient } from '@enclave/db';
import type { Finding } from './doctor.js';

const TIMEOUT_MS = 5_000;
/** The SIEM cursor may stand still this long behind the chain before doctor warns, then fails. */
export const SIEM_IDLE_WARN_SECONDS = 60;
export const SIEM_IDLE_FAIL_SECONDS = 300;

/**
 * The audit app at work, as the database shows it: a sealer holds its lock and the seal queue is
 * younger than AUDIT_UNSEALED_ALERT_SECONDS; with AUDIT_SIEM_URL, a forwarder holds its lock and
 * the receiver's cursor keeps up with the chain.
 */
export async function checkAuditRuntime(config: Config): Promise<Finding[]> {
  if (!config.database.url) return [];
  const client = pgClient(databaseUrl(config), {
    connectionTimeoutMillis: TIMEOUT_MS,
    query_timeout: TIMEOUT_MS,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const sql = sqlOfClient(client);
    const findings = [await checkSealer(config, sql)];
    if (config.audit.siem) findings.push(await checkSiem(config.audit.siem.url, sql));
    return findings;
  } catch {
    // The database checks report an unreachable database or missing migrations.
    return [];
  } finally {
    await client.end().catch(() => undefined);
  }
}

function holderText(h: LockHolder): string {
  const who = [h.applicationName, h.clientAddr].filter(Boolean).join(' from ');
  return `session ${h.pid}${who ? ` (${who})` : ''}`;
}

async function checkSealer(config: Config, sql: Sql): Promise<Finding> {
  const holder = await advisoryLockHolder(sql, SEALER_LOCK);
  const { unsealed, oldestQueuedSeconds } = await new AuditChainRepository(sql).queueStats();
  const limit = config.audit.unsealedAlertSeconds;
  const waiting = unsealed
    ? `${unsealed} event(s) wait to be sealed, the oldest for ${Math.round(oldestQueuedSeconds ?? 0)} s`
    : 'no event waits to be sealed';
  if (!holder) {
    return {
      check: 'audit sealer',
      verdict: 'fail',
      message: `no audit app holds the sealer's lock: new audit events are not sealed; ${waiting}`,
      fix: 'start the audit app on an audit host (systemctl start enclave-audit), then journalctl -u enclave-audit -p warning',
    };
  }
  if ((oldestQueuedSeconds ?? 0) > limit) {
    return {
      check: 'audit sealer',
      verdict: 'fail',
      message: `active in ${holderText(holder)}, but ${waiting} (AUDIT_UNSEALED_ALERT_SECONDS=${limit})`,
      fix: "the sealer is stuck or too slow: journalctl -u enclave-audit -p warning; systemctl restart enclave-audit on the lock holder's host",
    };
  }
  return {
    check: 'audit sealer',
    verdict: 'ok',
    message: `active in ${holderText(holder)}; ${waiting}`,
  };
}

async function checkSiem(receiver: string, sql: Sql): Promise<Finding> {
  const holder = await advisoryLockHolder(sql, SIEM_FORWARDER_LOCK);
  const head = (await new AuditChainRepository(sql).head()).pos;
  const cursor = await new SiemCursorRepository(sql).position(receiver);
  const behind = head - (cursor?.pos ?? 0);
  if (!holder) {
    return {
      check: 'SIEM forwarding',
      verdict: 'fail',
      message: `no audit app forwards to ${receiver}; it lacks ${behind} sealed event(s)`,
      fix: 'start the audit app (AUDIT_SIEM_URL set) on an audit host, then journalctl -u enclave-audit -p warning',
    };
  }
  if (behind <= 0) {
    return {
      check: 'SIEM forwarding',
      verdict: 'ok',
      message: `${receiver} has every sealed event (position ${head}); forwarded by ${holderText(holder)}`,
    };
  }
  const idle = cursor?.idleSeconds ?? Infinity;
  const stalled = `${receiver} lacks ${behind} sealed event(s); its cursor ${cursor ? `last moved ${Math.round(idle)} s ago` : 'has never moved'}`;
  if (idle <= SIEM_IDLE_WARN_SECONDS) {
    return { check: 'SIEM forwarding', verdict: 'ok', message: `${stalled} (catching up)` };
  }
  return {
    check: 'SIEM forwarding',
    verdict: idle > SIEM_IDLE_FAIL_SECONDS ? 'fail' : 'warn',
    message: stalled,
    fix: "the receiver is unreachable or refuses: the audit app's log names the error (journalctl -u enclave-audit -p warning); check AUDIT_SIEM_URL and the network",
  };
}
