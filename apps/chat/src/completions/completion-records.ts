import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AuditLog, type AuditEvent } from '@enclave/audit';
import { type Config, InjectConfig } from '@enclave/config';
import {
  type FinishedMessage,
  MessagesRepository,
  type PendingMessage,
} from '@enclave/conversations';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '@enclave/http';
import { Metrics, PeriodicTask } from '@enclave/observability';
import { type CounterIncrement, CountersRepository } from '@enclave/policy';
import { join } from 'node:path';
import { DataSource, type EntityManager } from 'typeorm';
import { ChatInstance } from './chat-instance.js';
import { RecordSpool, SpoolFullError } from './record-spool.js';

/** How often a non-empty spool is offered to the database again. */
const REPLAY_EVERY_MS = 1_000;

/**
 * What closes a completion: the finished message, the tokens for the quota counters and the
 * `chat.completion` audit event. Plain JSON, so it can wait in the spool.
 */
export interface CompletionRecord {
  messageId: string;
  /** The pending message, when it may not be stored yet (the database was away before it). */
  pending: (PendingMessage & { createdAt: string }) | null;
  result: FinishedMessage;
  increments: { counter: string; by: number; expiresAt: string }[];
  audit: AuditEvent;
  /** When the request ended: the audit event's time, also when written late. */
  occurredAt: string;
}

export function incrementsOf(items: CounterIncrement[]): CompletionRecord['increments'] {
  return items.map((i) => ({ ...i, expiresAt: i.expiresAt.toISOString() }));
}

/**
 * Writes completion records: straight to the database in one statement when it is there, to
 * the process's spool file (fsynced) when it is not, and from the spool into the database, in
 * the order they were spooled, as soon as it is back. While the spool holds anything, new
 * records queue behind it, so the audit chain receives them in order.
 */
@Injectable()
export class CompletionRecords implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('CompletionRecords');
  readonly spool: RecordSpool<CompletionRecord>;
  private replaying: Promise<void> | null = null;
  private readonly replays = new PeriodicTask(
    async () => {
      if (this.spool.size) await this.replay();
    },
    { name: 'spool replay', everyMs: REPLAY_EVERY_MS, log: this.log },
  );
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly messages: MessagesRepository,
    private readonly counters: CountersRepository,
    private readonly audit: AuditLog,
    private readonly instance: ChatInstance,
    metrics: Metrics,
    @InjectConfig() config: Config,
  ) {
    this.spool = new RecordSpool(
      join(config.database.dataDir, 'spool', `${instance.fileName}.jsonl`),
      config.records.spoolMaxBytes,
      metrics.registry,
    );
  }

  onModuleInit(): void {
    this.replays.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.replays.stop();
    await this.replaying;
  }

  /**
   * The pending message, stored before the upstream is called, so a process killed mid-answer
   * still leaves a record that the request happened (outcome in_progress).
   */
  async start(pending: PendingMessage): Promise<void> {
    await this.messages.insertPending(pending);
  }

  /**
   * Stores the record: in the database (one round trip), or in the spool when the database is
   * away. Resolves once it is durable in one of them; false when the message had already been
   * closed (by the reconciler), so nothing was written.
   */
  async close(record: CompletionRecord): Promise<boolean> {
    if (this.spool.size === 0 && !this.replaying) {
      try {
        return await this.write(this.dataSource.manager, record);
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw err;
        this.log.warn({ messageId: record.messageId }, 'database away: completion record spooled');
      }
    }
    try {
      await this.spool.append(record);
    } catch (err) {
      // Neither the database nor the spool can keep it: the request fails as in an outage.
      if (err instanceof SpoolFullError) throw new DatabaseUnavailableError(err.message);
      throw err;
    }
    return true;
  }

  /** Writes what the spool holds, oldest first; stops at the first sign the database is away. */
  replay(): Promise<void> {
    this.replaying ??= this.replayAll().finally(() => (this.replaying = null));
    return this.replaying;
  }

  private async replayAll(): Promise<void> {
    while (this.spool.size > 0 && !this.stopped) {
      const records = await this.spool.read();
      let done = 0;
      try {
        for (const record of records) {
          await this.dataSource.transaction(async (db) => {
            if (record.pending) {
              await this.messages.insertPendingIfAbsent(db, {
                ...record.pending,
                createdAt: new Date(record.pending.createdAt),
              });
            }
            if (!(await this.write(db, record))) {
              this.log.warn(
                { messageId: record.messageId },
                'spooled record found its message already closed (by the reconciler)',
              );
            }
          });
          done++;
        }
      } catch (err) {
        if (!isDatabaseUnavailable(err)) {
          // A record the database refuses for good would block every later one: it stays in
          // the log for an operator, and the rest go on.
          this.log.error({ err, record: records[done] }, 'spooled record refused; skipped');
          done++;
        }
        await this.spool.dropFirst(done);
        if (isDatabaseUnavailable(err)) return;
        continue;
      }
      await this.spool.dropFirst(done);
      if (done) this.log.log({ records: done }, 'spooled completion records written');
    }
  }

  /** The closing statement: message, counters and audit event in one round trip. */
  private async write(db: EntityManager, r: CompletionRecord): Promise<boolean> {
    const params: unknown[] = [];
    const ctes = [this.messages.finishCte(r.messageId, r.result, params)];
    if (r.increments.length) {
      const items = r.increments.map((i) => ({ ...i, expiresAt: new Date(i.expiresAt) }));
      ctes.push(this.counters.incrementCte(items, params, { onlyIf: 'closed' }));
    }
    ctes.push(
      this.audit.appendCtes(r.audit, params, {
        onlyIf: 'closed',
        occurredAt: new Date(r.occurredAt),
      }),
    );
    const rows: { closed: number }[] = await db.query(
      `WITH ${ctes.join(',\n')} SELECT count(*)::int AS closed FROM closed`,
      params,
    );
    return rows[0]?.closed === 1;
  }
}
