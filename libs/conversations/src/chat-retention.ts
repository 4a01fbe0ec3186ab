import { type MonthPartition, monthlyPartitions, type Sql } from '@enclave/db';

/**
 * SQL: whether an active legal hold covers a record of `user` from `from` to `to` (the audit
 * chain's `recordHeld` or `holdCoversRecord`). Given by the caller, libs/privacy, so this lib
 * (which the chat process loads) does not load the audit chain's.
 */
export type HoldCondition = (user: string, from: string, to?: string) => string;

/** One retention step in its own transaction under the run's lock (null: skipped). */
export type RetentionStep = <T>(work: (sql: Sql) => Promise<T>) => Promise<T | null>;

const BATCH = 10_000;

export interface MessagePruning {
  partitionsDropped: string[];
  messagesDeleted: number;
  /** Past retention but kept because a legal hold covers them. */
  messagesHeld: number;
  conversationsDeleted: number;
}

/**
 * Deletes the conversation messages created before `cutoff` that no legal hold covers: a month
 * wholly before it with no held message is detached and dropped; other messages go in batches
 * (their feedback with them), as do rows of `messages_default`, which are never moved into a
 * month (docs/audit.md); then the conversations left empty and not updated since. Each step
 * commits on its own (through `step`); `read` counts the held messages afterwards, outside the
 * lock.
 */
export async function pruneMessages(
  step: RetentionStep,
  read: Sql,
  cutoff: Date,
  recordHeld: HoldCondition,
): Promise<MessagePruning> {
  // Whether a hold covers the message `m` (its owner, its time), or any time of the
  // conversation `c` (created to updated).
  const MESSAGE_HELD = recordHeld('m.user_id', 'm.created_at');
  const CONVERSATION_HELD = recordHeld('c.user_id', 'c.created_at', 'c.updated_at');
  const result: MessagePruning = {
    partitionsDropped: [],
    messagesDeleted: 0,
    messagesHeld: 0,
    conversationsDeleted: 0,
  };
  for (const p of (await step((sql) => monthlyPartitions(sql, 'messages'))) ?? []) {
    if (p.to > cutoff) break;
    const dropped = await step((sql) => dropMessagesIfUnheld(sql, p, MESSAGE_HELD));
    if (dropped !== null) {
      result.partitionsDropped.push(p.name);
      result.messagesDeleted += dropped;
    }
  }
  for (;;) {
    const n = await step(async (sql) => {
      const rows = await sql(
        `DELETE FROM messages WHERE id IN (
           SELECT m.id FROM messages m WHERE m.created_at < $1 AND NOT ${MESSAGE_HELD}
            LIMIT ${BATCH}) RETURNING id`,
        [cutoff],
      );
      return rows.length;
    });
    result.messagesDeleted += n ?? 0;
    if (!n || n < BATCH) break;
  }
  const gone = await step((sql) =>
    sql(
      `DELETE FROM conversations c WHERE c.updated_at < $1
          AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id)
          AND NOT ${CONVERSATION_HELD}
        RETURNING c.id`,
      [cutoff],
    ),
  );
  result.conversationsDeleted = gone?.length ?? 0;
  const [held] = await read<{ n: number }>(
    `SELECT count(*)::int AS n FROM messages m WHERE m.created_at < $1 AND ${MESSAGE_HELD}`,
    [cutoff],
  );
  result.messagesHeld = held!.n;
  return result;
}

/**
 * Drops a month of messages that lies wholly before the cutoff unless a legal hold covers one of
 * them. Their feedback is deleted first, as a row delete would have cascaded to it (and a
 * partition still referenced by feedback cannot be detached). Returns the messages dropped.
 */
async function dropMessagesIfUnheld(
  sql: Sql,
  p: MonthPartition,
  messageHeld: string,
): Promise<number | null> {
  const [held] = await sql(`SELECT 1 FROM ${p.name} m WHERE ${messageHeld} LIMIT 1`);
  if (held) return null;
  await sql(
    `DELETE FROM feedback f USING ${p.name} m
      WHERE f.message_id = m.id AND f.message_created_at = m.created_at`,
  );
  const [{ n }] = (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${p.name}`)) as [
    { n: number },
  ];
  await sql(`ALTER TABLE messages DETACH PARTITION ${p.name}`);
  await sql(`DROP TABLE ${p.name}`);
  return n;
}
