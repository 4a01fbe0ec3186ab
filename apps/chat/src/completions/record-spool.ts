import { Logger } from '@nestjs/common';
import { appendFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';

/** Thrown when the spool is at its size limit: the record could not be kept. */
export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
}

/**
 * An append-only file of JSON lines, one record each, fsynced before `append` resolves: what a
 * chat process could not write to the database while it was away. Appends that arrive together
 * share one write and one fsync. The file outlives the process; `read` gives the records in the
 * order they were appended, and `dropFirst` removes those written to the database since.
 * Every file operation runs one after another on one chain, so a drop never races an append.
 */
export class RecordSpool<T> {
  private readonly log = new Logger('Spool');
  private chain: Promise<unknown> = Promise.resolve();
  private queued: { line: string; done: (err?: Error) => void }[] = [];
  private flushScheduled = false;
  private entries = 0;
  private bytes = 0;
  private readonly entriesGauge: Gauge;
  private readonly bytesGauge: Gauge;
  private readonly appended: Counter;
  private readonly refused: Counter;
  private readonly written: Counter;

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
    registry: Registry,
  ) {
    this.entriesGauge = new Gauge({
      name: 'enclave_spool_entries',
      help: 'Completion records in the local spool, waiting for the database.',
      registers: [registry],
    });
    this.bytesGauge = new Gauge({
      name: 'enclave_spool_bytes',
      help: 'Size of the local spool file, in bytes.',
      registers: [registry],
    });
    new Gauge({
      name: 'enclave_spool_max_bytes',
      help: 'The size the local spool may reach (ENCLAVE_SPOOL_MAX_MB).',
      registers: [registry],
    }).set(maxBytes);
    this.appended = new Counter({
      name: 'enclave_spool_appended_total',
      help: 'Completion records written to the local spool because the database was away.',
      registers: [registry],
    });
    this.written = new Counter({
      name: 'enclave_spool_replayed_total',
      help: 'Spooled completion records written into the database once it was back.',
      registers: [registry],
    });
    this.refused = new Counter({
      name: 'enclave_spool_refused_total',
      help: 'Records the spool could not keep because it was full (their requests got 503).',
      registers: [registry],
    });
    this.loadSize();
    // A crash in the middle of an append leaves a torn last line: end it, so the next record
    // starts on a line of its own (the torn one is skipped when read).
    if (this.bytes && !readFileSync(this.path, 'utf8').endsWith('\n')) {
      appendFileSync(this.path, '\n');
    }
  }

  /** Records waiting (including those of an earlier run of this process). */
  get size(): number {
    return this.entries;
  }

  append(record: T): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    const size = Buffer.byteLength(line);
    if (this.bytes + this.queuedBytes() + size > this.maxBytes) {
      this.refused.inc();
      return Promise.reject(
        new SpoolFullError(`the spool ${this.path} is full (${this.maxBytes} bytes)`),
      );
    }
    return new Promise((resolve, reject) => {
      this.queued.push({ line, done: (err) => (err ? reject(err) : resolve()) });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        this.run(() => this.flush());
      }
    });
  }

  /** Every record in the file, oldest first (a line torn by a crash mid-write is skipped). */
  read(): Promise<T[]> {
    return this.run(async () => this.readLines().records);
  }

  /** Removes the `n` oldest records (written to the database), keeping any appended since. */
  dropFirst(n: number): Promise<void> {
    return this.run(async () => {
      const { lines } = this.readLines();
      const rest = lines.slice(n);
      if (!rest.length) {
        await writeFile(this.path, '');
      } else {
        // A new file replaces the old one whole, so a crash leaves either of them, never half.
        const tmp = `${this.path}.tmp`;
        const fh = await open(tmp, 'w', 0o600);
        try {
          await fh.writeFile(rest.map((l) => `${l}\n`).join(''));
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, this.path);
      }
      this.written.inc(Math.min(n, lines.length));
      this.loadSize();
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.queued;
    this.queued = [];
    if (!batch.length) return;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      const fh = await open(this.path, 'a', 0o600);
      try {
        await fh.appendFile(batch.map((b) => b.line).join(''));
        await fh.datasync();
      } finally {
        await fh.close();
      }
      this.entries += batch.length;
      this.bytes += batch.reduce((n, b) => n + Buffer.byteLength(b.line), 0);
      this.appended.inc(batch.length);
      this.publish();
      for (const b of batch) b.done();
    } catch (err) {
      this.log.error({ err, path: this.path }, 'could not write to the spool');
      for (const b of batch) b.done(err as Error);
    }
  }

  private readLines(): { lines: string[]; records: T[] } {
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const lines: string[] = [];
    const records: T[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        records.push(JSON.parse(line) as T);
        lines.push(line);
      } catch {
        this.log.error({ path: this.path, line: line.slice(0, 200) }, 'skipping a torn spool line');
      }
    }
    return { lines, records };
  }

  private loadSize(): void {
    try {
      this.bytes = statSync(this.path).size;
      this.entries = this.bytes ? this.readLines().lines.length : 0;
    } catch {
      this.bytes = 0;
      this.entries = 0;
    }
    this.publish();
  }

  private publish(): void {
    this.entriesGauge.set(this.entries);
    this.bytesGauge.set(this.bytes);
  }

  private queuedBytes(): number {
    return this.queued.reduce((n, q) => n + q.line.length, 0);
  }

  private run<R>(op: () => Promise<R>): Promise<R> {
    const next = this.chain.then(op, op);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
