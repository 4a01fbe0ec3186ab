import type pg from 'pg';
import { AdvisoryLockLoop, type LoopLog } from '../advisory-lock-loop.js';
import { AuditChainRepository } from '../audit-chain.repository.js';
import { type AuditRecord, type Checkpoint, leafHash, linkHash, signCheckpoint } from '../chain.js';
import type { SigningKey } from '../signing-key.js';
import { newPayloadSalt, payloadHash } from '@enclave/audit';
import { sqlOfClient } from '@enclave/db';

/** Arbitrary but fixed: the session advisory lock held by the one active sealer. */
export const SEALER_LOCK = 7_315_005;

export interface SealerOptions {
  databaseUrl: string;
  /** Signs checkpoints; without it the chain is still sealed but has no checkpoints. */
  signingKey: SigningKey | null;
  checkpointEvery: number;
  checkpointSeconds: number;
  /** Pause between polls when the queue is empty (and between lock attempts on standby). */
  intervalMs: number;
  unsealedAlertSeconds: number;
  batchSize?: number;
  log: LoopLog;
  /** Each check of the seal queue (active or standby): feeds the unsealed-events gauges. */
  onQueueStats?: (stats: QueueStats) => void;
}

export interface QueueStats {
  /** Committed events waiting to be sealed. */
  unsealed: number;
  /** Seconds the oldest of them has waited; null when none wait. */
  oldestQueuedSeconds: number | null;
}

export interface SealerStatus {
  active: boolean;
  sealed: number;
  checkpoints: number;
  lastError: string | null;
  /** When a round last completed (sealing when active, checking the lock on standby); ms. */
  lastRoundAt: number | null;
}

const ALERT_CHECK_MS = 10_000;

/**
 * The single writer of the audit chain. Instances compete for a session advisory lock on their
 * own connection; the holder seals queued (committed) events in batches, in the order it sees
 * them, and signs checkpoints. The others stand by and retry; Postgres releases the lock when the
 * holder's connection ends (its process died), so a standby takes over. Sealing runs on the
 * lock's connection, so a sealer that lost its connection has lost the lock and cannot write.
 */
export class AuditSealer {
  private readonly loop: AdvisoryLockLoop;
  private lastCheckpoint: { pos: number; at: number } | null = null;
  private lastAlertCheck = 0;
  readonly status: SealerStatus = {
    active: false,
    sealed: 0,
    checkpoints: 0,
    lastError: null,
    lastRoundAt: null,
  };

  constructor(private readonly opts: SealerOptions) {
    this.loop = new AdvisoryLockLoop(
      {
        databaseUrl: opts.databaseUrl,
        applicationName: 'enclave-audit-sealer',
        lock: SEALER_LOCK,
        intervalMs: opts.intervalMs,
        log: opts.log,
        messages: {
          connectionLost: 'audit sealer connection lost',
          failed: 'audit sealer failed; reconnecting',
          standingDown: 'audit sealer standing down',
        },
        status: this.status,
      },
      {
        acquired: () => {
          this.lastCheckpoint = null;
          opts.log.info({ lock: SEALER_LOCK }, 'audit sealer active');
        },
        round: async (client) => {
          const pause = await this.sealRound(client);
          this.status.lastRoundAt = Date.now();
          return pause;
        },
        // On standby too: the unsealed-events gauges and the alert watch the active sealer.
        standby: async (client) => {
          await this.maybeAlert(client);
          this.status.lastRoundAt = Date.now();
        },
      },
    );
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** A batch, then a pause unless the batch was full (more are likely waiting). */
  private async sealRound(client: pg.Client): Promise<number> {
    const sealed = await this.sealBatch(client);
    await this.maybeAlert(client);
    return sealed < (this.opts.batchSize ?? 5_000) ? this.opts.intervalMs : 0;
  }

  /** Seals up to one batch of queued events in one transaction; returns how many. */
  async sealBatch(client: pg.Client): Promise<number> {
    const repo = new AuditChainRepository(sqlOfClient(client));
    await client.query('BEGIN');
    try {
      const queued = await repo.queued(this.opts.batchSize ?? 5_000);
      let head = await repo.head();
      const links: { pos: number; eventId: string; leafHash: string; hash: string }[] = [];
      const backfill: { eventId: string; salt: string; hash: string }[] = [];
      for (const { eventId, record } of queued) {
        if (!record) {
          this.opts.log.warn({ eventId }, 'a queued audit event vanished before it was sealed');
          continue;
        }
        if (record.payloadHash === null) {
          // Appended before the chain existed: hash the payload now, at sealing.
          const salt = newPayloadSalt().toString('hex');
          record.payloadSalt = salt;
          record.payloadHash = payloadHash(salt, record.payload);
          backfill.push({ eventId, salt, hash: record.payloadHash });
        }
        const pos = head.pos + 1;
        const leaf = leafHash(pos, record as AuditRecord);
        head = { pos, hash: linkHash(head.hash, leaf) };
        links.push({ pos, eventId, leafHash: leaf, hash: head.hash });
      }
      await repo.setPayloadHashes(backfill);
      await repo.appendLinks(links);
      await repo.dequeue(queued.map((q) => q.eventId));
      const checkpoint = await this.checkpointIfDue(repo, head);
      await client.query('COMMIT');
      this.status.sealed += links.length;
      if (checkpoint) {
        this.status.checkpoints++;
        this.lastCheckpoint = { pos: checkpoint.pos, at: Date.parse(checkpoint.signedAt) };
      }
      return queued.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async checkpointIfDue(
    repo: AuditChainRepository,
    head: { pos: number; hash: string },
  ): Promise<Checkpoint | null> {
    const key = this.opts.signingKey;
    if (!key) return null;
    if (!this.lastCheckpoint) {
      const last = await repo.lastCheckpoint();
      this.lastCheckpoint = last
        ? { pos: last.pos, at: Date.parse(last.signedAt) }
        : { pos: 0, at: 0 };
    }
    const dueByCount = head.pos - this.lastCheckpoint.pos >= this.opts.checkpointEvery;
    // By time even when idle: a fresh checkpoint is the proof that nothing was sealed meanwhile.
    const dueByTime = Date.now() - this.lastCheckpoint.at >= this.opts.checkpointSeconds * 1_000;
    if (!dueByCount && !dueByTime) return null;
    const cp = signCheckpoint(key, head.pos, head.hash);
    await repo.insertCheckpoint(cp);
    return cp;
  }

  private async maybeAlert(client: pg.Client): Promise<void> {
    // Every 10 s, or twice per alert bound when that is shorter.
    const every = Math.min(ALERT_CHECK_MS, this.opts.unsealedAlertSeconds * 500);
    if (Date.now() - this.lastAlertCheck < every) return;
    this.lastAlertCheck = Date.now();
    const stats = await new AuditChainRepository(sqlOfClient(client)).queueStats();
    this.opts.onQueueStats?.(stats);
    if ((stats.oldestQueuedSeconds ?? 0) > this.opts.unsealedAlertSeconds) {
      this.opts.log.warn(
        {
          unsealed: stats.unsealed,
          oldestSeconds: Math.round(stats.oldestQueuedSeconds!),
          active: this.status.active,
        },
        'audit events are waiting to be sealed longer than AUDIT_UNSEALED_ALERT_SECONDS',
      );
    }
  }
}
