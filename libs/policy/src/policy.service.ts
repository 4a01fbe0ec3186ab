import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AuditLog, SYSTEM_ACTOR } from '@enclave/audit';
import { type Principal, principalActor } from '@enclave/auth';
import { ConfigEvents } from '@enclave/db';
import { PeriodicTask } from '@enclave/observability';
import { ApiError } from '@enclave/http';
import { DataSource, type EntityManager } from 'typeorm';
import { type CounterIncrement, CountersRepository } from './counters.repository.js';
import { type Quota, QuotasRepository } from './quotas.repository.js';
import {
  NO_LIMITS,
  rateLimitHeaders,
  type RateLimitStanding,
  tighter,
} from './rate-limit-headers.js';
import { type ApplicableBudget, Entitlements } from './teams/entitlements.js';
import { UsageBuffer } from './usage-buffer.js';
import { dayWindow, minuteWindow, monthWindow, secondsUntil, type Window } from './windows.js';

const CLEANUP_EVERY_MS = 10 * 60_000;

interface Limits {
  requestsPerMinute: number | null;
  tokensPerDay: number | null;
  tokensPerMonth: number | null;
}

/** A request's tokens, with the model as asked for and what an alias stands for. */
export interface RequestUsage {
  model: string;
  /** The model an alias stands for; the model itself when it is none. */
  resolved: string;
  promptTokens: number;
  completionTokens: number;
}

/** A finished request as the usage history records it. */
export interface FinishedRequest extends RequestUsage {
  outcome: string;
  cacheHit: boolean | null;
  latencyMs: number | null;
  ttftMs: number | null;
  /** Counts against quotas, budgets and usage totals (false when no answer was produced). */
  billable: boolean;
}

/** A budget's counter holds whole tokens, or money in millionths of the currency unit. */
const MONEY_SCALE = 1e6;

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
    private readonly entitlements: Entitlements,
    private readonly audit: AuditLog,
    private readonly dataSource: DataSource,
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
    const budgets = this.entitlements.budgetsOf(principal).map((b) => ({
      budget: b,
      counter: budgetCounter(b, now),
      window: b.period === 'day' ? day : month,
      units: b.unit === 'money' ? b.limit * MONEY_SCALE : b.limit,
    }));
    if (!rated.length && !checks.length && !budgets.length) return NO_LIMITS;
    // One statement counts the request and reads the token quotas: one round trip, and no
    // counter row held beyond it.
    const counts = await this.counters.incrementAndRead(
      rated.map((s) => ({ counter: `${s.prefix}:rpm:${minute.id}`, by: 1, expiresAt: minute.end })),
      [...checks.map((c) => c.counter), ...budgets.map((b) => b.counter)],
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
    for (const b of budgets) {
      const used = counts.get(b.counter) ?? 0;
      if (used >= b.units * this.entitlements.warnShare) {
        this.warnOnce(principal, b.budget, b.counter, used, b.window);
      }
      if (used >= b.units) {
        const what =
          b.budget.unit === 'money'
            ? `${b.budget.limit} ${this.entitlements.currency}`
            : `${b.budget.limit} tokens`;
        throw new ApiError(
          429,
          'budget_exceeded',
          `The ${b.budget.period === 'day' ? 'daily' : 'monthly'} budget of ${what} for ${b.budget.label} is used up; it resets at ${b.window.end.toISOString()}.`,
          {
            headers: {
              ...headers,
              'retry-after': String(secondsUntil(b.window.end, now)),
              'x-enclave-budget-reset': b.window.end.toISOString(),
            },
          },
        );
      }
    }
    return standing;
  }

  /**
   * A `budget.warning` audit event the first time a budget's use reaches the warning share in
   * its period, whichever instance sees it first (a claimed counter decides), off the request.
   */
  private warnOnce(
    principal: Principal,
    budget: ApplicableBudget,
    counter: string,
    used: number,
    window: Window,
  ): void {
    const run = async () => {
      await this.dataSource.transaction(async (db) => {
        if (!(await this.counters.claim(`w:${counter}`, window.end, db))) return;
        await this.audit.append(db, {
          actor: SYSTEM_ACTOR,
          action: 'budget.warning',
          target: { type: `budget:${budget.scope}`, id: budget.subjectId },
          outcome: 'success',
          payload: {
            budgetId: budget.id,
            unit: budget.unit,
            period: budget.period,
            limit: budget.limit,
            used: budget.unit === 'money' ? used / MONEY_SCALE : used,
            share: this.entitlements.warnShare,
            currency: budget.unit === 'money' ? this.entitlements.currency : null,
            resetsAt: window.end.toISOString(),
            by: principalActor(principal).label,
          },
        });
      });
    };
    run().catch((err: unknown) => this.log.warn({ err }, 'budget warning not recorded'));
  }

  /** Throws 403 `model_not_allowed` when none of the caller's groups may use the model. */
  assertModelAllowed(principal: Principal, model: string, resolved = model): void {
    this.entitlements.assertAllowed(principal, model, resolved);
  }

  /** The models of `models` the caller's groups may use (an API key's scope is the caller's). */
  modelsAllowed(principal: Principal, models: string[], resolve: (m: string) => string) {
    return models.filter((m) => this.entitlements.allows(principal.userId, m, resolve(m)));
  }

  /**
   * The counters a finished request adds to: its tokens on the quota counters, its tokens or
   * cost on the budgets that apply. For the closing statement of a completion.
   */
  usageIncrements(principal: Principal, u: RequestUsage, now = new Date()): CounterIncrement[] {
    const tokens = u.promptTokens + u.completionTokens;
    const increments = this.tokenIncrements(principal, tokens, now);
    if (tokens <= 0) return increments;
    const { cost } = this.entitlements.costOf(
      u.model,
      u.resolved,
      u.promptTokens,
      u.completionTokens,
    );
    for (const b of this.entitlements.budgetsOf(principal)) {
      const by = b.unit === 'money' ? Math.round(cost * MONEY_SCALE) : tokens;
      if (by <= 0) continue;
      const window = b.period === 'day' ? dayWindow(now) : monthWindow(now);
      increments.push({ counter: budgetCounter(b, now), by, expiresAt: window.end });
    }
    return increments;
  }

  /**
   * Records a finished request in the usage history (every request, for the dashboard) and, when
   * billable, in the daily totals, with its cost at the price in force now; written by the
   * UsageBuffer within a second.
   */
  recordRequest(
    principal: { userId: string; apiKey: { id: string } | null },
    r: FinishedRequest,
    now = new Date(),
  ): void {
    const prompt = r.billable ? r.promptTokens : 0;
    const completion = r.billable ? r.completionTokens : 0;
    const { cost, currency } = this.entitlements.costOf(r.model, r.resolved, prompt, completion);
    this.usage.addEvent({
      at: now,
      userId: principal.userId,
      apiKeyId: principal.apiKey?.id ?? null,
      groupIds: this.entitlements.groupsOf(principal.userId),
      model: r.model,
      outcome: r.outcome,
      cacheHit: r.cacheHit,
      promptTokens: prompt,
      completionTokens: completion,
      cost,
      currency,
      latencyMs: r.latencyMs,
      ttftMs: r.ttftMs,
    });
    if (r.billable) {
      this.usage.add(
        {
          userId: principal.userId,
          apiKeyId: principal.apiKey?.id ?? null,
          model: r.model,
          promptTokens: prompt,
          completionTokens: completion,
          cost,
        },
        now,
      );
    }
  }

  /**
   * Adds a finished request's tokens to the quota counters (caller's transaction, so every
   * instance sees them at once) and to the usage summary (written within a second).
   */
  async account(
    db: EntityManager,
    principal: Principal,
    model: string,
    resolved: string,
    promptTokens: number,
    completionTokens: number,
    now = new Date(),
  ): Promise<void> {
    const usage = { model, resolved, promptTokens, completionTokens };
    await this.counters.increment(this.usageIncrements(principal, usage, now), db);
    this.recordRequest(
      principal,
      {
        ...usage,
        outcome: 'completed',
        cacheHit: null,
        latencyMs: null,
        ttftMs: null,
        billable: true,
      },
      now,
    );
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

  /** Adds a completed request to the usage history (recordRequest with fewer details). */
  recordUsage(
    principal: Pick<Principal, 'userId' | 'apiKey'>,
    model: string,
    promptTokens: number,
    completionTokens: number,
  ): void {
    this.recordRequest(principal, {
      model,
      resolved: model,
      promptTokens,
      completionTokens,
      outcome: 'completed',
      cacheHit: null,
      latencyMs: null,
      ttftMs: null,
      billable: true,
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

/** A budget's counter in the window that `now` falls in. */
function budgetCounter(b: ApplicableBudget, now: Date): string {
  return `b:${b.id}:${(b.period === 'day' ? dayWindow(now) : monthWindow(now)).id}`;
}
