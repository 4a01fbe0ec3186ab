import { AuditLog, SYSTEM_ACTOR } from '@enclave/audit';
import {
  type AuditRetentionRules,
  pruneAuditEvents,
  recordHeld,
  type RetentionStep,
} from '@enclave/audit-chain';
import { pruneMessages, pruneStoredResponses } from '@enclave/conversations';
import { pruneUsage } from '@enclave/policy';
import { ensureMonthlyPartitions, sqlOf } from '@enclave/db';
import type { DataSource } from 'typeorm';

/** Arbitrary but fixed: the transaction lock that keeps retention runs from overlapping. */
export const RETENTION_LOCK = 7_315_006;

/**
 * The retention rules (the runtime policies' `auditRetentionDays`, `messageRetentionDays` and
 * `usageRetentionDays`).
 */
export interface RetentionRules {
  audit: AuditRetentionRules;
  messageDays: number | null;
  /** Absent or null: the usage history is kept. */
  usageDays?: number | null;
}

export interface RetentionResult {
  /** False when another run held the lock (nothing done). */
  ran: boolean;
  partitionsCreated: string[];
  partitionsDropped: string[];
  /** Events removed, by partition drop or row delete; their links are kept and marked pruned. */
  auditEventsPruned: number;
  /** Past retention but kept because a legal hold covers them. */
  auditEventsHeld: number;
  messagesDeleted: number;
  messagesHeld: number;
  conversationsDeleted: number;
  /** Stored responses of the Responses API deleted, and kept past retention for a legal hold. */
  storedResponsesDeleted: number;
  storedResponsesHeld: number;
  /** Usage history rows deleted (requests and daily totals), and kept for a legal hold. */
  usageEventsDeleted: number;
  usageDaysDeleted: number;
  usageHeld: number;
  /** The positions whose events were pruned in this run. */
  prunedRange: { from: number; to: number } | null;
}

/**
 * Applies retention once at `now` (an injected clock, so tests move time without sleeping):
 * creates the monthly partitions ahead, then removes the audit events past their retention
 * (libs/audit `pruneAuditEvents`: sealed, not held, their links kept and marked pruned) and the
 * conversation messages and stored responses older than `messageDays` and not held
 * (`pruneMessages`, `pruneStoredResponses`). Records
 * `audit.retention.applied` when anything changed. Each step is its own transaction under
 * RETENTION_LOCK, so runs never overlap and an interrupted run leaves a consistent state for the
 * next; a run that finds the lock taken does nothing (`ran: false`).
 */
export async function applyRetention(
  ds: DataSource,
  rules: RetentionRules,
  now: Date,
  opts: { monthsAhead?: number; audit?: AuditLog } = {},
): Promise<RetentionResult> {
  const result: RetentionResult = {
    ran: false,
    partitionsCreated: [],
    partitionsDropped: [],
    auditEventsPruned: 0,
    auditEventsHeld: 0,
    messagesDeleted: 0,
    messagesHeld: 0,
    conversationsDeleted: 0,
    storedResponsesDeleted: 0,
    storedResponsesHeld: 0,
    usageEventsDeleted: 0,
    usageDaysDeleted: 0,
    usageHeld: 0,
    prunedRange: null,
  };
  const step: RetentionStep = (work) =>
    ds.transaction(async (m) => {
      const sql = sqlOf(m);
      const [row] = await sql<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
        RETENTION_LOCK,
      ]);
      return row!.ok ? work(sql) : null;
    });

  const created = await step(async (sql) => [
    ...(await ensureMonthlyPartitions(sql, 'audit_events', now, opts.monthsAhead ?? 2)),
    ...(await ensureMonthlyPartitions(sql, 'messages', now, opts.monthsAhead ?? 2)),
  ]);
  if (created === null) return result;
  result.ran = true;
  result.partitionsCreated = created;

  const audit = await pruneAuditEvents(step, sqlOf(ds), rules.audit, now);
  result.partitionsDropped.push(...audit.partitionsDropped);
  result.auditEventsPruned = audit.auditEventsPruned;
  result.auditEventsHeld = audit.auditEventsHeld;
  result.prunedRange = audit.prunedRange;

  if (rules.messageDays !== null) {
    const cutoff = new Date(now.getTime() - rules.messageDays * 86_400_000);
    const chat = await pruneMessages(step, sqlOf(ds), cutoff, recordHeld);
    result.partitionsDropped.push(...chat.partitionsDropped);
    result.messagesDeleted = chat.messagesDeleted;
    result.messagesHeld = chat.messagesHeld;
    result.conversationsDeleted = chat.conversationsDeleted;
    const responses = await pruneStoredResponses(step, sqlOf(ds), cutoff, recordHeld);
    result.storedResponsesDeleted = responses.deleted;
    result.storedResponsesHeld = responses.held;
  }

  if (rules.usageDays != null) {
    const cutoff = new Date(now.getTime() - rules.usageDays * 86_400_000);
    Object.assign(result, await pruneUsage(step, sqlOf(ds), cutoff, recordHeld));
  }

  const changed =
    result.auditEventsPruned +
      result.messagesDeleted +
      result.conversationsDeleted +
      result.storedResponsesDeleted +
      result.usageEventsDeleted +
      result.usageDaysDeleted >
      0 || result.partitionsDropped.length > 0;
  if (changed) {
    await ds.transaction((m) =>
      (opts.audit ?? new AuditLog()).append(m, {
        actor: { ...SYSTEM_ACTOR, label: 'retention' },
        action: 'audit.retention.applied',
        target: null,
        outcome: 'success',
        payload: {
          at: now.toISOString(),
          rules: {
            audit: rules.audit,
            messageDays: rules.messageDays,
            usageDays: rules.usageDays ?? null,
          },
          auditEventsPruned: result.auditEventsPruned,
          auditEventsHeld: result.auditEventsHeld,
          prunedRange: result.prunedRange,
          partitionsDropped: result.partitionsDropped,
          messagesDeleted: result.messagesDeleted,
          messagesHeld: result.messagesHeld,
          conversationsDeleted: result.conversationsDeleted,
          storedResponsesDeleted: result.storedResponsesDeleted,
          storedResponsesHeld: result.storedResponsesHeld,
          usageEventsDeleted: result.usageEventsDeleted,
          usageDaysDeleted: result.usageDaysDeleted,
          usageHeld: result.usageHeld,
        },
      }),
    );
  }
  return result;
}
