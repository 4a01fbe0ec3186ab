import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type AuditActor, AuditLog } from '@enclave/audit';
import { ApiKeysRepository, UsersRepository } from '@enclave/auth';
import { type Config, InjectConfig } from '@enclave/config';
import {
  type AbandonedMessage,
  ChatInstancesRepository,
  MessagesRepository,
} from '@enclave/conversations';
import { PeriodicTask } from '@enclave/observability';
import { PolicyService } from '@enclave/policy';
import { DataSource } from 'typeorm';
import { ChatInstance } from './chat-instance.js';
import { CompletionRecords } from './completion-records.js';

/** How often this process says it is alive. */
const BEAT_EVERY_MS = 5_000;
/** A process not seen for this long is gone (six missed beats). */
const STALE_AFTER_MS = 30_000;
/** How often abandoned messages are looked for. */
const RECONCILE_EVERY_MS = 15_000;
/** Messages closed per transaction. */
const BATCH = 200;

/**
 * Closes completions nobody will finish: messages left `in_progress` by a chat process that
 * died (its successor under the same name closes them at start-up; any process once the dead
 * one has not been seen for 30 s) or that outlived ENCLAVE_COMPLETION_DEADLINE_S. Each becomes
 * `interrupted` with a `chat.completion` audit event saying why, in one statement, so a message
 * is closed once whoever gets there first. Runs one pass at a time (each waits for the last).
 */
@Injectable()
export class MessageReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Reconciler');
  private readonly beats = new PeriodicTask(() => this.beatAndReconcile(), {
    name: 'reconciler pass',
    everyMs: BEAT_EVERY_MS,
    log: this.log,
  });
  /** Since when this process's beats have succeeded without a break; null after a failure. */
  private beatingSince: number | null = null;
  private lastPass = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly instance: ChatInstance,
    private readonly instances: ChatInstancesRepository,
    private readonly messages: MessagesRepository,
    private readonly records: CompletionRecords,
    private readonly audit: AuditLog,
    private readonly users: UsersRepository,
    private readonly apiKeys: ApiKeysRepository,
    private readonly policy: PolicyService,
    @InjectConfig() private readonly config: Config,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // The predecessor's spool first: its records must land before its messages are declared
    // interrupted.
    await this.beats.runNow();
    this.beats.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.beats.stop();
    // Gone on purpose: whatever it still had open (cut by the shutdown timeout) is closed by
    // the next pass of any other instance.
    await this.instances.remove(this.instance.id).catch(() => undefined);
    this.instance.release();
  }

  /** One beat, and a pass when one is due. */
  private async beatAndReconcile(): Promise<void> {
    try {
      await this.instances.beat(this.instance.id, this.instance.name, process.pid);
      this.beatingSince ??= Date.now();
    } catch (err) {
      this.beatingSince = null;
      throw err;
    }
    if (Date.now() - this.lastPass < RECONCILE_EVERY_MS) return;
    await this.records.replay();
    let closed = 0;
    for (let n = BATCH; n === BATCH; closed += n) n = await this.reconcileBatch();
    this.lastPass = Date.now();
    if (closed) this.log.warn({ closed }, 'closed abandoned completions as interrupted');
    await this.instances.deleteForgotten();
  }

  private async reconcileBatch(): Promise<number> {
    // Right after an outage every process's last beat is old: judge others by theirs only once
    // this one has been beating for as long as the stale limit.
    const judgeStale =
      this.beatingSince !== null && Date.now() - this.beatingSince >= STALE_AFTER_MS;
    const closed: AbandonedMessage[] = [];
    const found = await this.dataSource.transaction(async (db) => {
      const abandoned = await this.messages.findAbandoned(db, {
        instanceId: this.instance.id,
        instanceName: this.instance.name,
        staleSeconds: judgeStale ? STALE_AFTER_MS / 1000 : null,
        deadlineSeconds: this.config.records.completionDeadlineMs / 1000,
        limit: BATCH,
      });
      // The actor's label names the user and key as a completion's own event does.
      const emails = await this.users.emailsOf(
        abandoned.map((m) => m.userId),
        db,
      );
      const prefixes = await this.apiKeys.prefixesOf(
        abandoned.flatMap((m) => (m.apiKeyId ? [m.apiKeyId] : [])),
        db,
      );
      for (const m of abandoned) {
        const params: unknown[] = [];
        const actor = actorOf(m, emails, prefixes);
        const ctes = [
          this.messages.interruptCte(m.id, params),
          this.audit.appendCtes(interruptedEvent(m, actor), params, { onlyIf: 'closed' }),
        ];
        const [row] = await db.query(
          `WITH ${ctes.join(',\n')} SELECT count(*)::int AS n FROM closed`,
          params,
        );
        if (row.n) closed.push(m);
      }
      return abandoned.length;
    });
    // A process that is gone took its usage row with it: the history counts the request (no
    // tokens are known, nothing is billed). One past the deadline may still be running, and
    // records its own when it ends.
    for (const m of closed) {
      if (m.reason !== 'process_gone' || !m.model) continue;
      this.policy.recordRequest(
        { userId: m.userId, apiKey: m.apiKeyId ? { id: m.apiKeyId } : null },
        {
          model: m.model,
          resolved: m.model,
          promptTokens: 0,
          completionTokens: 0,
          outcome: 'interrupted',
          cacheHit: null,
          latencyMs: null,
          ttftMs: null,
          billable: false,
        },
        m.createdAt,
      );
    }
    return found;
  }
}

function actorOf(
  m: AbandonedMessage,
  emails: Map<string, string>,
  keyPrefixes: Map<string, string>,
): AuditActor {
  const email = emails.get(m.userId) ?? null;
  return m.apiKeyId
    ? {
        type: 'api_key',
        id: m.userId,
        label: `${email} (key ${keyPrefixes.get(m.apiKeyId) ?? null})`,
      }
    : { type: 'user', id: m.userId, label: email };
}

function interruptedEvent(m: AbandonedMessage, actor: AuditActor) {
  return {
    actor,
    action: 'chat.completion',
    target: { type: 'message', id: m.id },
    outcome: 'failure' as const,
    meta: { ip: null, userAgent: null, requestId: m.requestId },
    payload: {
      content: 'none',
      model: m.model,
      upstream: null,
      outcome: 'interrupted',
      reason: m.reason,
      startedAt: m.createdAt,
      conversationId: m.conversationId,
      errorCode: null,
    },
  };
}
