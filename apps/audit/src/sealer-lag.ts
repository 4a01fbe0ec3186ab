import { Injectable } from '@nestjs/common';
import { AuditChainRepository, type QueueStats } from '@enclave/audit-chain';
import { sqlOf } from '@enclave/db';
import { type Config, InjectConfig } from '@enclave/config';
import type { ReadinessCheck } from '@enclave/observability';
import { DataSource } from 'typeorm';

/** /readyz and /metrics must answer even when the database does not. */
const ASK_TIMEOUT_MS = 2_000;

/**
 * The seal queue as the database has it now, asked through the app's own pool rather than the
 * sealer's connection: a sealer whose loop is stuck cannot hide its lag.
 */
export async function sealQueueNow(dataSource: DataSource): Promise<QueueStats> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${ASK_TIMEOUT_MS} ms`)),
      ASK_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([new AuditChainRepository(sqlOf(dataSource)).queueStats(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Not ready while committed audit events wait longer than AUDIT_UNSEALED_ALERT_SECONDS to be
 * sealed: whatever the cause (no active sealer, a stuck one), the chain is falling behind.
 */
@Injectable()
export class SealerReadiness implements ReadinessCheck {
  readonly name = 'audit-sealer';

  constructor(
    private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: Config,
  ) {}

  async check(): Promise<string | null> {
    let stats: QueueStats;
    try {
      stats = await sealQueueNow(this.dataSource);
    } catch {
      return null; // the database check says it is unreachable
    }
    const limit = this.config.audit.unsealedAlertSeconds;
    const waited = stats.oldestQueuedSeconds ?? 0;
    if (waited <= limit) return null;
    return (
      `${stats.unsealed} audit events wait to be sealed, the oldest for ${Math.round(waited)} s ` +
      `(AUDIT_UNSEALED_ALERT_SECONDS=${limit}): see the audit app's log for the sealer`
    );
  }
}
