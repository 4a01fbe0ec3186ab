import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ConfigEvents } from '@enclave/db';
import { PeriodicTask } from '@enclave/observability';
import { LRUCache } from 'lru-cache';
import { type ApiKeyForAuthentication, ApiKeysRepository } from './api-keys.repository.js';
import { type SessionRow, SessionsRepository } from './sessions.repository.js';

/** How many keys and sessions each process keeps; the rest are read again when used. */
const MAX_ENTRIES = 10_000;
/** last_used_at / last_seen_at are written at most this often per key or session. */
const TOUCH_EVERY_MS = 60_000;
/** Queued touches are written together this often, in one statement per table. */
const FLUSH_EVERY_MS = 5_000;

/**
 * API keys and sessions as authentication reads them, kept in memory so a request costs no
 * database round trip. Whatever ends a credential (revoked, expired early, user disabled or
 * re-roled, session ended) fires the `auth` topic on `enclave_config` from a trigger
 * (migration 1796402736241), and every process drops its whole cache: such changes are rare,
 * and a process then reads each credential once more. A lookup that was already running when
 * the notification came is not kept (the generation check), so a revoked key cannot slip back in.
 */
@Injectable()
export class CredentialCache implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('CredentialCache');
  private readonly keys = new LRUCache<string, ApiKeyForAuthentication>({ max: MAX_ENTRIES });
  private readonly sessions = new LRUCache<string, SessionRow>({ max: MAX_ENTRIES });
  private generation = 0;
  private keyTouches = new Set<string>();
  private sessionTouches = new Map<string, Buffer>();
  private readonly flusher = new PeriodicTask(() => this.flushTouches(), {
    name: 'recording last use of keys and sessions',
    everyMs: FLUSH_EVERY_MS,
    log: this.log,
  });

  constructor(
    private readonly keysRepo: ApiKeysRepository,
    private readonly sessionsRepo: SessionsRepository,
    @Inject(ConfigEvents) private readonly events: Pick<ConfigEvents, 'on'>,
  ) {}

  onModuleInit(): void {
    this.events.on('auth', () => this.invalidate());
    this.flusher.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flusher.stop();
    await this.flushTouches();
  }

  invalidate(): void {
    this.generation++;
    this.keys.clear();
    this.sessions.clear();
  }

  async apiKey(prefix: string): Promise<ApiKeyForAuthentication | null> {
    const cached = this.keys.get(prefix);
    if (cached) return cached;
    const generation = this.generation;
    const row = await this.keysRepo.findForAuthentication(prefix);
    if (row && generation === this.generation) this.keys.set(prefix, row);
    return row;
  }

  /** A live session by its token's hash; null when unknown or expired. */
  async session(tokenHash: Buffer): Promise<SessionRow | null> {
    const id = tokenHash.toString('hex');
    let row = this.sessions.get(id);
    if (!row) {
      const generation = this.generation;
      row = (await this.sessionsRepo.findLive(tokenHash)) ?? undefined;
      if (row && generation === this.generation) this.sessions.set(id, row);
    }
    if (!row || row.expiresAt.getTime() <= Date.now()) return null;
    return row;
  }

  /** Notes a key's use; written with others within FLUSH_EVERY_MS, at most once a minute. */
  touchKey(row: ApiKeyForAuthentication): void {
    if (row.lastUsedAt && Date.now() - row.lastUsedAt.getTime() <= TOUCH_EVERY_MS) return;
    row.lastUsedAt = new Date();
    this.keyTouches.add(row.id);
  }

  touchSession(tokenHash: Buffer, row: SessionRow): void {
    if (Date.now() - row.lastSeenAt.getTime() <= TOUCH_EVERY_MS) return;
    row.lastSeenAt = new Date();
    this.sessionTouches.set(tokenHash.toString('hex'), tokenHash);
  }

  /** Writes the queued touches; lost if the database is away (they are only a hint). */
  async flushTouches(): Promise<void> {
    const keys = [...this.keyTouches];
    const sessions = [...this.sessionTouches.values()];
    this.keyTouches = new Set();
    this.sessionTouches = new Map();
    try {
      if (keys.length) await this.keysRepo.touchMany(keys);
      if (sessions.length) await this.sessionsRepo.touchMany(sessions);
    } catch (err) {
      this.log.warn({ err }, 'last-used times not written');
    }
  }
}
