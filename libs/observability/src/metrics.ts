import { Inject, Injectable, Optional } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/** How an upstream call ended (the outcome stored with the message). */
export type UpstreamOutcome = 'completed' | 'client_disconnected' | 'upstream_error';
export type RejectionKind = 'rate_limit' | 'quota' | 'budget';

/** The app's name on every series (`app="chat"`), so one dashboard covers all three apps. */
export const METRICS_APP_NAME = Symbol('METRICS_APP_NAME');

/** node-postgres Pool counters (TypeORM's postgres driver keeps its pools as `master`/`slaves`). */
interface PgPoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options?: { max?: number };
}

// From sub-millisecond API calls to long streamed answers.
const REQUEST_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];
const UPSTREAM_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];

export interface AuditSealerWatch {
  /** The oldest unsealed event's wait in seconds (0 when none), or null when it cannot be asked. */
  lagSeconds(): Promise<number | null>;
  /** When this app's sealer last completed a round (ms), or null before its first. */
  lastRoundAt(): number | null;
}

/**
 * The app's Prometheus registry and the typed calls that feed it. One registry per app instance
 * (not prom-client's global one), so several apps can live in one process, as in the tests.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  private readonly requestDuration = new Histogram({
    name: 'enclave_http_request_duration_seconds',
    help: 'HTTP requests by route pattern and status, from arrival to the last byte (a stream lasts until it ends). Status 499: the client went away first.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });

  private readonly upstreamDuration = new Histogram({
    name: 'enclave_upstream_duration_seconds',
    help: 'Upstream chat completions, whole answer, by backend, model and outcome.',
    labelNames: ['backend', 'model', 'outcome'] as const,
    buckets: UPSTREAM_BUCKETS,
    registers: [this.registry],
  });

  private readonly upstreamTtft = new Histogram({
    name: 'enclave_upstream_ttft_seconds',
    help: 'Time to the first token of upstream chat completions, by backend and model.',
    labelNames: ['backend', 'model'] as const,
    buckets: UPSTREAM_BUCKETS,
    registers: [this.registry],
  });

  private readonly tokenCount = new Counter({
    name: 'enclave_tokens_total',
    help: 'Tokens by model; type="prompt" (in) or "completion" (out).',
    labelNames: ['model', 'type'] as const,
    registers: [this.registry],
  });

  private readonly cacheLookups = new Counter({
    name: 'enclave_cache_lookups_total',
    help: 'Response cache lookups; result="hit" or "miss".',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly rejections = new Counter({
    name: 'enclave_rejections_total',
    help: 'Requests refused by policy; kind="rate_limit" or "quota".',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  private readonly feedbackCount = new Counter({
    name: 'enclave_feedback_total',
    help: 'Thumbs up / down given on answers in the chat UI, by rating and model; a changed rating counts again.',
    labelNames: ['rating', 'model'] as const,
    registers: [this.registry],
  });

  private readonly backendUp = new Gauge({
    name: 'enclave_backend_healthy',
    help: '1 when the upstream backend passed its last health check, else 0.',
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });

  /** The audit app's series, registered on first use so the other apps do not show them at 0. */
  private auditSeries: ReturnType<Metrics['makeAuditSeries']> | null = null;

  private audit(): ReturnType<Metrics['makeAuditSeries']> {
    return (this.auditSeries ??= this.makeAuditSeries());
  }

  /** What the audit app asks when /metrics is scraped (see watchAuditSealer). */
  private sealerWatch: AuditSealerWatch | null = null;

  private makeAuditSeries() {
    const registers = [this.registry];
    const watch = () => this.sealerWatch;
    return {
      sealerLag: new Gauge({
        name: 'enclave_audit_sealer_lag_seconds',
        help: 'How long the oldest unsealed audit event has waited, asked of the database at each scrape (0 when none wait). Alert above AUDIT_UNSEALED_ALERT_SECONDS.',
        registers,
        async collect() {
          const lag = await watch()?.lagSeconds();
          if (lag !== undefined && lag !== null) this.set(lag);
        },
      }),
      sealerLastRound: new Gauge({
        name: 'enclave_audit_sealer_last_round_age_seconds',
        help: "Seconds since this audit app's sealer last completed a round (sealing, or checking the lock on standby). Grows when its loop is stuck.",
        registers,
        collect() {
          const at = watch()?.lastRoundAt();
          if (at !== undefined && at !== null) this.set((Date.now() - at) / 1000);
        },
      }),
      unsealed: new Gauge({
        name: 'enclave_audit_unsealed_events',
        help: 'Committed audit events waiting to be sealed into the chain (refreshed every 10 s, or twice per AUDIT_UNSEALED_ALERT_SECONDS when shorter).',
        registers,
      }),
      oldestUnsealed: new Gauge({
        name: 'enclave_audit_oldest_unsealed_seconds',
        help: 'How long the oldest unsealed audit event has waited, in seconds (0 when none wait). Alert above AUDIT_UNSEALED_ALERT_SECONDS.',
        registers,
      }),
      siemForwarded: new Counter({
        name: 'enclave_audit_siem_forwarded_total',
        help: 'Sealed audit events forwarded to the SIEM receiver and settled there (the cursor moved past them).',
        registers,
      }),
      siemLag: new Gauge({
        name: 'enclave_audit_siem_lag_positions',
        help: 'Chain positions sealed but not yet known to be at the SIEM receiver.',
        registers,
      }),
      siemConnected: new Gauge({
        name: 'enclave_audit_siem_connected',
        help: '1 while this audit app forwards to the SIEM and has a connection to the receiver, else 0.',
        registers,
      }),
    };
  }

  constructor(
    @Optional() @Inject(METRICS_APP_NAME) appName?: string,
    @Optional() private readonly dataSource?: DataSource,
  ) {
    if (appName) this.registry.setDefaultLabels({ app: appName });
    // process_* and nodejs_* (event-loop lag, heap, GC, handles).
    collectDefaultMetrics({ register: this.registry });
    this.registerPoolGauges();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text for a scrape. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** One finished HTTP request; `route` is the route pattern (`/v1/models/:model`), never the URL. */
  request(method: string, route: string, status: number, seconds: number): void {
    this.requestDuration.observe({ method, route, status }, seconds);
  }

  /** One upstream chat completion; ttftSeconds null when no token arrived. */
  recordUpstream(
    backend: string,
    model: string,
    ttftSeconds: number | null,
    totalSeconds: number,
    outcome: UpstreamOutcome,
  ): void {
    this.upstreamDuration.observe({ backend, model, outcome }, totalSeconds);
    if (ttftSeconds !== null) this.upstreamTtft.observe({ backend, model }, ttftSeconds);
  }

  tokens(model: string, promptTokens: number | null, completionTokens: number | null): void {
    if (promptTokens) this.tokenCount.inc({ model, type: 'prompt' }, promptTokens);
    if (completionTokens) this.tokenCount.inc({ model, type: 'completion' }, completionTokens);
  }

  cache(hit: boolean): void {
    this.cacheLookups.inc({ result: hit ? 'hit' : 'miss' });
  }

  rejected(kind: RejectionKind): void {
    this.rejections.inc({ kind });
  }

  feedback(rating: 'up' | 'down', model: string): void {
    this.feedbackCount.inc({ rating, model });
  }

  backendHealth(backend: string, healthy: boolean): void {
    this.backendUp.set({ backend }, healthy ? 1 : 0);
  }

  /** A backend that was removed: its series goes instead of staying at its last value. */
  forgetBackend(backend: string): void {
    this.backendUp.remove({ backend });
  }

  /**
   * The audit app's sealer, read at each scrape: a sealer that stopped shows a growing lag
   * instead of the last value it reported itself.
   */
  watchAuditSealer(watch: AuditSealerWatch): void {
    this.sealerWatch = watch;
    this.audit();
  }

  /** The seal queue as the audit app last checked it. */
  auditQueue(unsealed: number, oldestSeconds: number | null): void {
    this.audit().unsealed.set(unsealed);
    this.audit().oldestUnsealed.set(oldestSeconds ?? 0);
  }

  siemEventsForwarded(events: number): void {
    this.audit().siemForwarded.inc(events);
  }

  siemLagPositions(positions: number): void {
    this.audit().siemLag.set(positions);
  }

  siemConnection(connected: boolean): void {
    this.audit().siemConnected.set(connected ? 1 : 0);
  }

  /** Read at scrape time from the DataSource's node-postgres pools (none: no series). */
  private registerPoolGauges(): void {
    const pools = (): [string, PgPoolCounts][] => {
      const driver = this.dataSource?.driver as
        { master?: PgPoolCounts; slaves?: PgPoolCounts[] } | undefined;
      const found: [string, PgPoolCounts][] = [];
      if (driver?.master) found.push(['primary', driver.master]);
      driver?.slaves?.forEach((p, i) => found.push([`replica${i}`, p]));
      return found;
    };
    const gauge = (name: string, help: string, read: (p: PgPoolCounts) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['pool'] as const,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const [pool, p] of pools()) {
            const value = read(p);
            if (value !== undefined) this.set({ pool }, value);
          }
        },
      });
    gauge('enclave_db_pool_connections', 'Open Postgres connections.', (p) => p.totalCount);
    gauge('enclave_db_pool_idle_connections', 'Idle Postgres connections.', (p) => p.idleCount);
    gauge(
      'enclave_db_pool_waiting_clients',
      'Queries waiting for a free Postgres connection.',
      (p) => p.waitingCount,
    );
    gauge(
      'enclave_db_pool_max_connections',
      'Size limit of the Postgres pool.',
      (p) => p.options?.max,
    );
  }
}
