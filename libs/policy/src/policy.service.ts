import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Principal } from '@enclave/auth';
import { ConfigEvents } from '@enclave/db';
import { PeriodicTask } from '@enclave/observability';
import { ApiError } from '@enclave/http';
import type { EntityManager } from 'typeorm';
import { type CounterIncrement, CountersRepository } from './counters.repository.js';
import { type Quota, QuotasRepository } from './quotas.repository.js';
import {
  NO_LIMITS,
  rateLimitHeaders,
  type RateLimitStanding,
  tighter,
} from './rate-limit-headers.js';
import { UsageBuffer } from './usage-buffer.js';
import { dayWindow, minuteWindow, monthWindow, secondsUntil, type Window } from './windows.js';

const CLEANUP_EVERY_MS = 10 * 60_000;

interface Limits {
  requestsPerMinute: number | null;
  tokensPerDay: number | null;
  tokensPerMonth: number | null;
}

/** A user's and (for API calls) a key's limits, each with the counter prefix and a label. */
interface Subject {
  prefix: string;
  label: string;
  limits: Limits;
}

/**
 * Rate limits and token quotas per user and per API key, enforced identically by every chat
 * instance: counters live in Postgres (fixed UTC windows: minute, day, month). The limits
 * themselves are cached and reloaded when an admin changes them.
 */
@Injectable()
export class PolicyService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('Policy');
  private quotas = new Map<string, Quota>();
  private readonly cleanup = new PeriodicTask(() => this.counters.deleteExpired(), {
    name: 'deleting expired rate-limit counters',
    everyMs: CLEANUP_EVERY_MS,
    log: this.log,
  });

  constructor(
    private readonly quotasRepo: QuotasRepository,
    private readonly counters: CountersRepository,
    private readonly usage: UsageBuffer,
    private readonly events: ConfigEvents,
  ) {}

  async onModuleInit(): Promise<void> {
    this.events.on('policies', () => this.reload());
    // Before migrations are applied there is nothing to load; the periodic resync retries.
    await this.reload().catch((err: Error) => this.log.warn({ err }, 'quotas not loaded yet'));
    this.cleanup.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.cleanup.stop();
  }

  async reload(): Promise<void> {
    const rows = await this.quotasRepo.list();
    this.quotas = new Map(rows.map((q) => [`${q.scope}:${q.subjectId ?? ''}`, q]));
  }

  /**
   * Counts the request against the caller's rate limits and checks its token quotas; throws 429
   * (`rate_limited` or `quota_exceeded`, with Retry-After) when one is used up. Returns where the
   * caller stands (for the `x-ratelimit-*` headers), which the 429 carries too.
   */
  async admit(principal: Principal, now = new Date()): Promise<RateLimitStanding> {
    const subjects = this.subjectsOf(principal);
    const minute = minuteWindow(now);
    const rated = subjects.filter((s) => s.limits.requestsPerMinute !== null);
    const day = dayWindow(now);
    const month = monthWindow(now);
    const checks: {
      counter: string;
      limit: number;
      window: Window;
      what: string;
      label: string;
    }[] = [];
    for (const s of subjects) {
      if (s.limits.tokensPerDay !== null) {
        checks.push({
          counter: `${s.prefix}:tpd:${day.id}`,
          limit: s.limits.tokensPerDay,
          window: day,
          what: 'daily',
          label: s.label,
        });
      }
      if (s.limits.tokensPerMonth !== null) {
        checks.push({
          counter: `${s.prefix}:tpm:${month.id}`,
          limit: s.limits.tokensPerMonth,
          window: month,
          what: 'monthly',
          label: s.label,
        });
      }
    }
    if (!rated.length && !checks.length) return NO_LIMITS;
    // One statement counts the request and reads the token quotas: one round trip, and no
    // counter row held beyond it.
    const counts = await this.counters.incrementAndRead(
      rated.map((s) => ({ counter: `${s.prefix}:rpm:${minute.id}`, by: 1, expiresAt: minute.end })),
      checks.map((c) => c.counter),
    );
    const standing: RateLimitStanding = { ...NO_LIMITS };
    for (const s of rated) {
      const limit = s.limits.requestsPerMinute!;
      const count = counts.get(`${s.prefix}:rpm:${minute.id}`) ?? 0;
      const resetSeconds = secondsUntil(minute.end, now);
      standing.requests = tighter(standing.requests, {
        limit,
        remaining: Math.max(0, limit - count),
        resetSeconds,
      });
    }
    for (const c of checks) {
      standing.tokens = tighter(standing.tokens, {
        limit: c.limit,
        remaining: Math.max(0, c.limit - (counts.get(c.counter) ?? 0)),
        resetSeconds: secondsUntil(c.window.end, now),
      });
    }
    const headers = rateLimitHeaders(standing);
    for (const s of rated) {
      const limit = s.limits.requestsPerMinute!;
      if ((counts.get(`${s.prefix}:rpm:${minute.id}`) ?? 0) > limit) {
        const retry = secondsUntil(minute.end, now);
        throw new ApiError(
          429,
          'rate_limited',
          `The rate limit of ${limit} requests per minute for ${s.label} is reached; retry in ${retry} s.`,
          { headers: { ...headers, 'retry-after': String(retry) } },
        );
      }
    }
    for (const c of checks) {
      if ((counts.get(c.counter) ?? 0) >= c.limit) {
        throw new ApiError(
          429,
          'quota_exceeded',
          `The ${c.what} token quota of ${c.limit} for ${c.label} is used up; it resets at ${c.window.end.toISOString()}.`,
          { headers: { ...headers, 'retry-after': String(secondsUntil(c.window.end, now)) } },
        );
      }
    }
    return standing;
  }

  /**
   * Adds a finished request's tokens to the quota counters (caller's transaction, so every
   * instance sees them at once) and to the usage summary (written within a second).
   */
  async account(
    db: EntityManager,
    principal: Principal,
    model: string,
    promptTokens: number,
    completionTokens: number,
    now = new Date(),
  ): Promise<void> {
    await this.counters.increment(
      this.tokenIncrements(principal, promptTokens + completionTokens, now),
      db,
    );
    this.recordUsage(principal, model, promptTokens, completionTokens);
  }

  /** The quota counters a request's tokens add to (none without limits or tokens). */
  tokenIncrements(principal: Principal, tokens: number, now = new Date()): CounterIncrement[] {
    const day = dayWindow(now);
    const month = monthWindow(now);
    const increments: CounterIncrement[] = [];
    for (const s of tokens > 0 ? this.subjectsOf(principal) : []) {
      if (s.limits.tokensPerDay !== null) {
        increments.push({ counter: `${s.prefix}:tpd:${day.id}`, by: tokens, expiresAt: day.end });
      }
      if (s.limits.tokensPerMonth !== null) {
        increments.push({
          counter: `${s.prefix}:tpm:${month.id}`,
          by: tokens,
          expiresAt: month.end,
        });
      }
    }
    return increments;
  }

  /** Adds to the usage summary, written by the UsageBuffer within a second. */
  recordUsage(
    principal: Pick<Principal, 'userId' | 'apiKey'>,
    model: string,
    promptTokens: number,
    completionTokens: number,
  ): void {
    this.usage.add({
      userId: principal.userId,
      apiKeyId: principal.apiKey?.id ?? null,
      model,
      promptTokens,
      completionTokens,
    });
  }

  /** The limits that apply to a user and (for API calls) to the key. */
  limitsOf(principal: Principal): { user: Limits; key: Limits | null } {
    const user = this.merge(
      this.quotas.get(`user:${principal.userId}`),
      this.quotas.get('default_user:'),
    );
    const key = principal.apiKey
      ? this.merge(
          this.quotas.get(`api_key:${principal.apiKey.id}`),
          this.quotas.get('default_key:'),
        )
      : null;
    return { user, key };
  }

  private subjectsOf(principal: Principal): Subject[] {
    const { user, key } = this.limitsOf(principal);
    const subjects: Subject[] = [
      { prefix: `u:${principal.userId}`, label: 'your user', limits: user },
    ];
    if (key && principal.apiKey) {
      subjects.push({
        prefix: `k:${principal.apiKey.id}`,
        label: `the API key ${principal.apiKey.prefix}`,
        limits: key,
      });
    }
    return subjects;
  }

  /** A subject's own quota wins field by field over the default. */
  private merge(own: Quota | undefined, fallback: Quota | undefined): Limits {
    return {
      requestsPerMinute: own?.requestsPerMinute ?? fallback?.requestsPerMinute ?? null,
      tokensPerDay: own?.tokensPerDay ?? fallback?.tokensPerDay ?? null,
      tokensPerMonth: own?.tokensPerMonth ?? fallback?.tokensPerMonth ?? null,
    };
  }
}
