import type pg from 'pg';
import { LockConnection } from './lock-connection.js';
import type { Sql } from '@enclave/db';

/** Where the loop and its owner (the sealer, the SIEM forwarder) write their log lines. */
export interface LoopLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What the instance holding the lock does; the loop around it is AdvisoryLockLoop's. */
export interface LockedWork {
  /** The lock was just won (at start, or again after losing it): load what the work resumes from. */
  acquired(client: pg.Client): Promise<void> | void;
  /** One round of the work; resolves to how long to wait before the next one (0: go on at once). */
  round(client: pg.Client): Promise<number>;
  /** Each round while another instance holds the lock. */
  standby?(client: pg.Client): Promise<void>;
  /** Once, after stop() ended the loop, while this instance still holds the lock. */
  finish?(client: pg.Client): Promise<void>;
}

export interface AdvisoryLockLoopOptions {
  databaseUrl: string;
  applicationName: string;
  /** The session advisory lock's key. */
  lock: number;
  /** Pause between attempts to take the lock on standby. */
  intervalMs: number;
  log: LoopLog;
  /** The loop's log lines, spelled out by the owner so that each can be found by its text. */
  messages: { connectionLost: string; failed: string; standingDown?: string };
  /** The owner's status: the loop keeps `active` and `lastError` up to date. */
  status: { active: boolean; lastError: string | null };
}

const RETRY_MS = 1_000;

/** The session holding a session advisory lock of this database (the active instance). */
export interface LockHolder {
  pid: number;
  /** null when this role may not see the session's details (pg_read_all_stats). */
  applicationName: string | null;
  clientAddr: string | null;
}

/** Who holds the lock now, or null when no instance does (doctor's liveness check). */
export async function advisoryLockHolder(sql: Sql, lock: number): Promise<LockHolder | null> {
  // A bigint key is split into classid (high 32 bits) and objid (low), with objsubid 1.
  const [row] = await sql<{ pid: number; app: string | null; addr: string | null }>(
    `SELECT l.pid, a.application_name AS app, host(a.client_addr) AS addr
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [lock],
  );
  return row ? { pid: row.pid, applicationName: row.app, clientAddr: row.addr } : null;
}

/**
 * Runs work that one instance at a time may do (the sealer, the SIEM forwarder). Each instance
 * tries for a session advisory lock on its own connection; the holder runs rounds of the work
 * on that connection, the others stand by and try again every interval. Postgres releases the
 * lock when the holder's connection ends (its process died), so a standby takes over. A failure
 * closes the connection, and with it the lock, and the loop starts over a second later.
 */
export class AdvisoryLockLoop {
  private readonly connection: LockConnection;
  private stopping = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly opts: AdvisoryLockLoopOptions,
    private readonly work: LockedWork,
  ) {
    this.connection = new LockConnection(opts.databaseUrl, opts.applicationName, (err) => {
      opts.status.lastError = err.message;
      opts.log.warn({ err: err.message }, opts.messages.connectionLost);
    });
  }

  /** Whether stop() was called. */
  get stopped(): boolean {
    return this.stopping;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Wakes the loop, waits for the round in progress to end, and gives up the lock. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    await this.standDown();
  }

  private async run(): Promise<void> {
    const { status } = this.opts;
    while (!this.stopping) {
      try {
        const client = await this.connection.open();
        if (!status.active) {
          const [row] = (
            await client.query('SELECT pg_try_advisory_lock($1) AS ok', [this.opts.lock])
          ).rows;
          if (!row.ok) {
            await this.work.standby?.(client);
            await this.sleep(this.opts.intervalMs);
            continue;
          }
          await this.work.acquired(client);
          status.active = true;
        }
        const pause = await this.work.round(client);
        if (pause > 0) await this.sleep(pause);
      } catch (err) {
        status.lastError = (err as Error).message;
        this.opts.log.error({ err: (err as Error).message }, this.opts.messages.failed);
        await this.standDown();
        await this.sleep(RETRY_MS);
      }
    }
    const client = this.connection.current;
    if (client && status.active) await this.work.finish?.(client).catch(() => undefined);
  }

  private async standDown(): Promise<void> {
    const { status, messages } = this.opts;
    if (status.active && messages.standingDown) this.opts.log.warn({}, messages.standingDown);
    // Without its connection it has lost the lock: another instance may take over now.
    status.active = false;
    await this.connection.close();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
