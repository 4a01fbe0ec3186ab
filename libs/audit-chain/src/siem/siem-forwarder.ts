import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type pg from 'pg';
import type { Config } from '@enclave/config';
import { AdvisoryLockLoop, type LoopLog } from '../advisory-lock-loop.js';
import { AuditChainRepository } from '../audit-chain.repository.js';
import { sqlOfClient } from '@enclave/db';
import { SiemCursorRepository } from './siem-cursor.repository.js';
import { auditSyslogMessage, octetCountingFrame } from './syslog-message.js';

/** Arbitrary but fixed, next to the sealer's: held by the one audit instance that forwards. */
export const SIEM_FORWARDER_LOCK = 7_315_006;

/** The receiver as AUDIT_SIEM_* configure it (its url is also the cursor's key). */
export type SiemReceiver = Omit<NonNullable<Config['audit']['siem']>, 'settleMs'>;

/** Where the forwarder reports what it does (the audit app's metrics). */
export interface SiemObserver {
  /** Events the receiver is now known to have (counted when the cursor moves past them). */
  forwarded(events: number): void;
  /** Chain positions sealed but not yet known to be at the receiver. */
  lag(positions: number): void;
  connected(connected: boolean): void;
}

export interface SiemForwarderOptions {
  databaseUrl: string;
  receiver: SiemReceiver;
  /** Pause between polls of the chain when everything is forwarded (and the standby poll). */
  intervalMs: number;
  /** How long a written batch must stay on an unbroken connection before the cursor passes it. */
  settleMs?: number;
  batchSize?: number;
  /** Positions written but not yet settled, at most: bounds what a reconnect sends again. */
  maxUnsettled?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  log: LoopLog;
  observer?: SiemObserver;
}

export interface SiemStatus {
  active: boolean;
  connected: boolean;
  /** The persisted cursor: the receiver has every event up to here. */
  cursor: number;
  /** The last position written on the current connection. */
  sent: number;
  head: number;
  lastError: string | null;
}

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Forwards sealed audit events to a SIEM as RFC 5424 syslog over TCP or TLS, in chain order,
 * at least once.
 *
 * TCP syslog has no acknowledgements, so "the receiver has it" is approximated: a batch counts as
 * delivered once its bytes were handed to the kernel and the connection then stayed up for
 * `settleMs` (default 1 s) without an error or a close. A receiver that stops or crashes closes
 * or resets the connection, which the forwarder sees; everything written less than `settleMs`
 * before that is sent again from the persisted cursor on the next connection (duplicates are
 * possible, gaps are not, as long as a receiver that goes away does so within `settleMs` of
 * reading what it lost). The cursor lives in Postgres (`audit_siem_cursor`), so a restart of the
 * audit app resumes where the receiver is known to be.
 *
 * Sealing never waits for it: the forwarder has its own connection and advisory lock, reads
 * only committed links, and a down receiver only makes it retry with backoff (0.5 s doubling to
 * 30 s).
 */
export class SiemForwarder {
  private readonly loop: AdvisoryLockLoop;
  private socket: Socket | null = null;
  /** Batches written on the current connection, waiting to settle. */
  private unsettled: { pos: number; events: number; writtenAt: number }[] = [];
  private backoffMs: number;
  private nextConnectAt = 0;
  private failedConnects = 0;
  readonly status: SiemStatus = {
    active: false,
    connected: false,
    cursor: 0,
    sent: 0,
    head: 0,
    lastError: null,
  };

  constructor(private readonly opts: SiemForwarderOptions) {
    this.backoffMs = opts.backoffMinMs ?? 500;
    this.loop = new AdvisoryLockLoop(
      {
        databaseUrl: opts.databaseUrl,
        applicationName: 'enclave-audit-siem',
        lock: SIEM_FORWARDER_LOCK,
        intervalMs: opts.intervalMs,
        log: opts.log,
        messages: {
          connectionLost: 'SIEM forwarder database connection lost',
          failed: 'SIEM forwarder failed; retrying',
        },
        status: this.status,
      },
      {
        acquired: (db) => this.resume(db),
        round: (db) => this.forwardRound(db),
        // Whatever settled before the stop is kept; the rest is sent again by the next forwarder.
        finish: (db) => this.settle(db),
      },
    );
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    this.dropSocket(null, null);
  }

  private get settleMs(): number {
    return this.opts.settleMs ?? 1_000;
  }

  /** Settles what is due, then writes a batch; resolves to how long to wait before the next. */
  private async forwardRound(db: pg.Client): Promise<number> {
    await this.settle(db);
    this.status.head = (await new AuditChainRepository(sqlOfClient(db)).head()).pos;
    this.opts.observer?.lag(Math.max(0, this.status.head - this.status.cursor));
    const socket = await this.receiver();
    if (!socket) {
      // Not connected: wait until the next attempt is due, an interval at most.
      return Math.max(0, Math.min(this.nextConnectAt - Date.now(), this.opts.intervalMs));
    }
    const unsettled = this.status.sent - this.status.cursor;
    if (this.status.sent >= this.status.head || unsettled >= (this.opts.maxUnsettled ?? 20_000)) {
      return unsettled > 0 ? Math.min(this.opts.intervalMs, this.settleMs) : this.opts.intervalMs;
    }
    await this.forwardBatch(db, socket);
    return 0;
  }

  /** The lock is ours: carry on from the persisted cursor. */
  private async resume(db: pg.Client): Promise<void> {
    const cursor = await new SiemCursorRepository(sqlOfClient(db)).load(this.opts.receiver.url);
    Object.assign(this.status, { cursor, sent: cursor });
    this.unsettled = [];
    this.opts.log.info(
      { receiver: this.opts.receiver.url, cursor },
      'SIEM forwarder active; resuming after the persisted cursor',
    );
  }

  /** Writes the next batch of sealed events, in chain order, as one buffer. */
  private async forwardBatch(db: pg.Client, socket: Socket): Promise<void> {
    const links = await new AuditChainRepository(sqlOfClient(db)).links(
      this.status.sent,
      this.opts.batchSize ?? 500,
    );
    if (!links.length) return;
    const r = this.opts.receiver;
    const header = { hostname: r.hostname, appName: r.appName, procId: String(process.pid) };
    const frames: Buffer[] = [];
    for (const link of links) {
      if (link.record) {
        frames.push(
          octetCountingFrame(
            auditSyslogMessage(header, link.pos, link.hash, link.record, r.maxMessageBytes),
          ),
        );
      } else if (!link.prunedAt) {
        this.opts.log.warn(
          { pos: link.pos, eventId: link.eventId },
          'SIEM forwarder: the event sealed at this position is gone (run `enclave audit verify --db`); skipped',
        );
      }
    }
    const last = links[links.length - 1]!.pos;
    if (frames.length) {
      try {
        await write(socket, Buffer.concat(frames));
      } catch (err) {
        this.dropSocket(socket, err as Error);
        return;
      }
    }
    // The socket may have closed while writing: then this batch is sent again after reconnecting.
    if (this.socket !== socket) return;
    this.status.sent = last;
    this.unsettled.push({ pos: last, events: frames.length, writtenAt: Date.now() });
  }

  /** Moves the persisted cursor past the batches that stayed on an unbroken connection. */
  private async settle(db: pg.Client): Promise<void> {
    const due = Date.now() - this.settleMs;
    let settled: { pos: number; events: number } | null = null;
    let events = 0;
    while (this.unsettled.length && this.unsettled[0]!.writtenAt <= due) {
      settled = this.unsettled.shift()!;
      events += settled.events;
    }
    if (!settled) return;
    await new SiemCursorRepository(sqlOfClient(db)).advance(this.opts.receiver.url, settled.pos);
    this.status.cursor = settled.pos;
    this.opts.observer?.forwarded(events);
  }

  /** The open connection to the receiver, or null until `nextConnectAt` after a failure. */
  private async receiver(): Promise<Socket | null> {
    if (this.socket) return this.socket;
    if (Date.now() < this.nextConnectAt) return null;
    const r = this.opts.receiver;
    try {
      const socket = await openSocket(r);
      socket.setKeepAlive(true, 10_000);
      socket.on('error', (err) => this.dropSocket(socket, err));
      socket.on('close', () => this.dropSocket(socket, null));
      // The receiver closed its side (stopping): whatever is not settled is sent again.
      socket.on('end', () => socket.destroy());
      // A syslog receiver sends nothing; reading keeps 'end' and resets visible.
      socket.resume();
      this.socket = socket;
      this.status.connected = true;
      this.opts.observer?.connected(true);
      this.backoffMs = this.opts.backoffMinMs ?? 500;
      this.opts.log.info(
        { receiver: r.url, failedAttempts: this.failedConnects },
        'SIEM receiver connected',
      );
      this.failedConnects = 0;
      return socket;
    } catch (err) {
      this.failedConnects++;
      this.status.lastError = (err as Error).message;
      this.nextConnectAt = Date.now() + this.backoffMs;
      // Warn on the first failure, then only now and then: a long outage must not flood the log.
      if (this.failedConnects === 1 || this.failedConnects % 20 === 0) {
        this.opts.log.warn(
          {
            receiver: r.url,
            err: (err as Error).message,
            attempts: this.failedConnects,
            retryInMs: this.backoffMs,
          },
          'SIEM receiver unreachable; retrying with backoff',
        );
      }
      this.backoffMs = Math.min(this.backoffMs * 2, this.opts.backoffMaxMs ?? 30_000);
      return null;
    }
  }

  /** The connection ended (or failed): rewind to the persisted cursor and reconnect later. */
  private dropSocket(socket: Socket | null, err: Error | null): void {
    const current = this.socket;
    if (socket !== null && socket !== current) return;
    this.socket = null;
    current?.destroy();
    if (!current) return;
    this.status.connected = false;
    this.opts.observer?.connected(false);
    const resend = this.status.sent - this.status.cursor;
    this.status.sent = this.status.cursor;
    this.unsettled = [];
    this.nextConnectAt = Date.now() + (this.loop.stopped ? 0 : this.backoffMs);
    if (!this.loop.stopped) {
      this.status.lastError = err?.message ?? 'connection closed by the receiver';
      this.opts.log.warn(
        { receiver: this.opts.receiver.url, err: this.status.lastError, resendPositions: resend },
        'SIEM receiver connection lost; will reconnect and resend from the persisted cursor',
      );
    }
  }
}

function openSocket(r: SiemReceiver): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const ready = r.tls ? 'secureConnect' : 'connect';
    const socket = r.tls
      ? tlsConnect({
          host: r.host,
          port: r.port,
          ca: r.caFile ? readFileSync(r.caFile) : undefined,
          // SNI only for names; the certificate is checked against the host either way.
          servername: /^[\d.]+$|:/.test(r.host) ? undefined : r.host,
        })
      : tcpConnect({ host: r.host, port: r.port });
    const timer = setTimeout(
      () => socket.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)),
      CONNECT_TIMEOUT_MS,
    );
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Resolves when the kernel has the bytes (the write callback), rejects on a write error. */
function write(socket: Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(data, (err) => (err ? reject(err) : resolve()));
  });
}
