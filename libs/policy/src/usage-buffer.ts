import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { PeriodicTask } from '@enclave/observability';
import { type UsageEvent, UsageEventsRepository } from './teams/usage-events.repository.js';
import { type UsageDelta, UsageRepository } from './usage.repository.js';

const FLUSH_EVERY_MS = 1_000;

/** More usage events than this waiting (database away) and the oldest are dropped. */
const MAX_PENDING_EVENTS = 100_000;

/**
 * Usage per (day, user, key, model) summed in memory and written once a second, so concurrent
 * requests of one user never queue on the same `usage_daily` row inside their transactions (the
 * benchmark showed that row serialising every completion). Each request's tokens are also on its
 * message row, so a process killed between flushes loses at most a second of this summary.
 * The usage history (a row per request, `usage_events`) is batched the same way.
 */
@Injectable()
export class UsageBuffer implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('Usage');
  private pending = new Map<string, UsageDelta>();
  private events: UsageEvent[] = [];
  private readonly flusher = new PeriodicTask(() => this.flush(), {
    name: 'usage flush',
    everyMs: FLUSH_EVERY_MS,
    log: this.log,
  });

  constructor(
    private readonly repo: UsageRepository,
    private readonly eventsRepo: UsageEventsRepository,
  ) {}

  onModuleInit(): void {
    this.flusher.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flusher.stop();
    await this.flush();
  }

  add(u: Omit<UsageDelta, 'day' | 'requests'>, now = new Date()): void {
    const day = now.toISOString().slice(0, 10);
    const key = `${day}|${u.userId}|${u.apiKeyId ?? ''}|${u.model}`;
    const row = this.pending.get(key);
    if (row) {
      row.requests++;
      row.promptTokens += u.promptTokens;
      row.completionTokens += u.completionTokens;
      row.cost += u.cost;
    } else {
      this.pending.set(key, { ...u, day, requests: 1 });
    }
  }

  addEvent(e: UsageEvent): void {
    this.events.push(e);
    if (this.events.length > MAX_PENDING_EVENTS) this.events.shift();
  }

  /** Writes what has accumulated; on failure keeps it for the next try. */
  async flush(): Promise<void> {
    await this.flushEvents();
    if (!this.pending.size) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.repo.add([...batch.values()]);
    } catch (err) {
      this.log.warn({ err, rows: batch.size }, 'usage not written yet; retrying');
      for (const [key, row] of batch) {
        const newer = this.pending.get(key);
        if (newer) {
          newer.requests += row.requests;
          newer.promptTokens += row.promptTokens;
          newer.completionTokens += row.completionTokens;
          newer.cost += row.cost;
        } else this.pending.set(key, row);
      }
    }
  }

  private async flushEvents(): Promise<void> {
    if (!this.events.length) return;
    const batch = this.events;
    this.events = [];
    try {
      await this.eventsRepo.add(batch);
    } catch (err) {
      this.log.warn({ err, rows: batch.length }, 'usage history not written yet; retrying');
      this.events = [...batch, ...this.events].slice(-MAX_PENDING_EVENTS);
    }
  }
}
