import { createHash } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { canonicalJson } from '@enclave/audit';
import { type Config, InjectConfig } from '@enclave/config';
import { PeriodicTask } from '@enclave/observability';
import { RuntimePoliciesService } from '@enclave/policy';
import { LRUCache } from 'lru-cache';
import type { ChatCompletion, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { DataSource } from 'typeorm';
import { UpstreamPool } from './upstream-pool.js';
import { localError } from './upstream-error.js';

const CLEANUP_EVERY_MS = 10 * 60_000;

export interface CachedAnswer {
  backend: string;
  completion: ChatCompletion;
}

interface Entry extends CachedAnswer {
  version: string;
  expiresAt: number;
}

/**
 * Exact-match cache for deterministic chat requests (temperature 0 or a seed): an in-memory LRU
 * per instance in front of a Postgres table shared by all. Keys include the scope (the user, or
 * everyone when the `cacheScope` runtime policy, defaulting to ENCLAVE_CACHE_SCOPE, is global), so
 * a hit never crosses it; an entry is valid only while the backend that produced it is unchanged
 * and enabled.
 */
@Injectable()
export class ResponseCache implements OnModuleInit, OnApplicationShutdown {
  private readonly lru: LRUCache<string, Entry> | null;
  private readonly log = new Logger('ResponseCache');
  private readonly cleanup = new PeriodicTask(() => this.deleteExpired(), {
    name: 'deleting expired cache entries',
    everyMs: CLEANUP_EVERY_MS,
    log: this.log,
  });

  constructor(
    private readonly dataSource: DataSource,
    private readonly pool: UpstreamPool,
    private readonly policies: RuntimePoliciesService,
    @InjectConfig() private readonly config: Config,
  ) {
    const max = config.cache.maxEntries;
    this.lru = max > 0 ? new LRUCache({ max }) : null;
  }

  onModuleInit(): void {
    this.cleanup.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.cleanup.stop();
  }

  /** The cache key of a request, or null when the request must not be cached. */
  keyFor(userId: string, body: ChatCompletionCreateParams): Buffer | null {
    // Read per request: an admin's change applies to the next request on every instance.
    const scope = this.policies.get().cacheScope;
    if (scope === 'off') return null;
    const deterministic = body.temperature === 0 || (body.seed !== undefined && body.seed !== null);
    if (!deterministic || (body.n ?? 1) > 1) return null;
    // Transport details and the end-user tag do not change the answer.
    const { stream: _s, stream_options: _o, user: _u, ...request } = body;
    const who = scope === 'global' ? 'global' : `user:${userId}`;
    let text: string;
    try {
      text = `${who}\n${canonicalJson({ ...request, model: this.pool.resolve(body.model) })}`;
    } catch (err) {
      // A body too deep to encode is the caller's to fix, never a crash of the request path.
      throw localError(err, true);
    }
    return createHash('sha256').update(text).digest();
  }

  async get(key: Buffer): Promise<CachedAnswer | null> {
    const id = key.toString('base64url');
    let entry = this.lru?.get(id);
    if (!entry) {
      const rows: {
        backend: string;
        version: string;
        response: ChatCompletion;
        expiresAt: Date;
      }[] = await this.dataSource.query(
        `SELECT backend, backend_version AS version, response, expires_at AS "expiresAt"
             FROM response_cache WHERE key = $1 AND expires_at > now()`,
        [key],
      );
      const row = rows[0];
      if (!row) return null;
      entry = {
        backend: row.backend,
        version: row.version,
        completion: row.response,
        expiresAt: row.expiresAt.getTime(),
      };
      this.lru?.set(id, entry);
    }
    if (entry.expiresAt <= Date.now() || this.pool.versionOf(entry.backend) !== entry.version) {
      this.lru?.delete(id);
      return null;
    }
    return { backend: entry.backend, completion: entry.completion };
  }

  async put(key: Buffer, answer: CachedAnswer): Promise<void> {
    const version = this.pool.versionOf(answer.backend);
    if (!version) return;
    const expiresAt = Date.now() + this.config.cache.ttlSeconds * 1000;
    await this.dataSource.query(
      `INSERT INTO response_cache (key, backend, backend_version, response, expires_at)
       VALUES ($1, $2, $3, $4::jsonb, $5)
       ON CONFLICT (key) DO UPDATE SET backend = EXCLUDED.backend,
         backend_version = EXCLUDED.backend_version, response = EXCLUDED.response,
         created_at = now(), expires_at = EXCLUDED.expires_at`,
      [key, answer.backend, version, JSON.stringify(answer.completion), new Date(expiresAt)],
    );
    this.lru?.set(key.toString('base64url'), { ...answer, version, expiresAt });
  }

  async deleteExpired(): Promise<void> {
    await this.dataSource.query('DELETE FROM response_cache WHERE expires_at < now()');
  }
}
