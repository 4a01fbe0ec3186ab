import { Pool } from 'undici';
import type { BackendRow } from './backends.repository.js';
import { UpstreamFailure } from './upstream-error.js';

/** Consecutive failures that open the circuit, and how long it then stays open. */
const BREAKER_THRESHOLD = 3;
const BREAKER_OPEN_MS = 15_000;
const HEALTH_TIMEOUT_MS = 2_000;
/** Real-traffic failures newer than this make a backend `degraded`. */
const DEGRADED_WINDOW_MS = 60_000;
/** Idle keep-alive connections outlive the simulator's and typical servers' own idle timeouts less. */
const KEEP_ALIVE_MS = 30_000;

/**
 * How a backend is doing: `unhealthy` when its health check fails or its last few real calls all
 * failed (5xx, timeout, connection refused), `degraded` when some recent real call failed.
 */
export type BackendState = 'healthy' | 'degraded' | 'unhealthy';

/** One upstream LLM server as the pool sees it: its connections, its load and its health. */
export class Backend {
  /** Keep-alive connections to the server, at most `maxConcurrent` of them. */
  readonly http: Pool;
  /** The URL path prefix of the OpenAI API on the server (`/v1` usually). */
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  outstanding = 0;
  /** From the last active health check; optimistic until the first one. */
  healthy = true;
  lastError: string | null = null;
  lastCheckedAt: Date | null = null;
  private discovered: string[] = [];
  /** Whether /v1/models has answered at least once. */
  hasDiscovered = false;
  private failures = 0;
  private openUntil = 0;
  private lastFailureAt = 0;

  constructor(
    readonly row: BackendRow,
    apiKey: string | null,
  ) {
    const url = new URL(row.baseUrl);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.headers = {
      'content-type': 'application/json',
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
    };
    this.http = new Pool(url.origin, {
      connections: row.maxConcurrent,
      keepAliveTimeout: KEEP_ALIVE_MS,
      // The pool's own timer enforces the time to the first token; a stream that then goes
      // silent for as long is stalled.
      headersTimeout: row.timeoutMs * 2,
      bodyTimeout: row.timeoutMs,
    });
  }

  get name(): string {
    return this.row.name;
  }

  /** The models it serves: configured, else what its /v1/models listed. */
  get models(): string[] {
    return this.row.models?.length ? this.row.models : this.discovered;
  }

  serves(model: string): boolean {
    return this.models.includes(model);
  }

  /** Could take a request were it not at its concurrency cap. */
  get usable(): boolean {
    return this.row.enabled && this.healthy && Date.now() >= this.openUntil;
  }

  /** May take a request now: usable and below its concurrency cap. */
  get available(): boolean {
    return this.usable && this.outstanding < this.row.maxConcurrent;
  }

  get circuitOpen(): boolean {
    return Date.now() < this.openUntil;
  }

  /** Lower is better: weighted least outstanding requests. */
  get load(): number {
    return (this.outstanding + 1) / this.row.weight;
  }

  get state(): BackendState {
    if (!this.healthy || this.failures >= BREAKER_THRESHOLD) return 'unhealthy';
    if (Date.now() - this.lastFailureAt < DEGRADED_WINDOW_MS) return 'degraded';
    return 'healthy';
  }

  recordSuccess(): void {
    this.failures = 0;
    this.openUntil = 0;
  }

  recordFailure(reason: string): void {
    this.lastError = reason;
    this.lastFailureAt = Date.now();
    this.failures++;
    if (this.failures >= BREAKER_THRESHOLD) this.openUntil = Date.now() + BREAKER_OPEN_MS;
  }

  /**
   * POST of an already serialised JSON body to the OpenAI API path. Whatever the server or the
   * network does wrong comes back as an UpstreamFailure; the body of a 4xx/5xx is read (bounded)
   * for its message, and the connection goes back to the pool.
   */
  async post(path: string, body: string, signal: AbortSignal, accept = 'application/json') {
    let res;
    try {
      res = await this.http.request({
        method: 'POST',
        path: this.basePath + path,
        headers: { ...this.headers, accept },
        body,
        signal,
      });
    } catch (err) {
      throw UpstreamFailure.from(err);
    }
    if (res.statusCode >= 400) {
      const text = await res.body.text().catch(() => '');
      const retryAfter = res.headers['retry-after'];
      throw UpstreamFailure.http(
        res.statusCode,
        text,
        typeof retryAfter === 'string' ? retryAfter : null,
      );
    }
    return res;
  }

  /** Active health check: GET /v1/models answers in time. */
  async checkHealth(): Promise<void> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), HEALTH_TIMEOUT_MS);
    try {
      const res = await this.http.request({
        method: 'GET',
        path: `${this.basePath}/models`,
        headers: this.headers,
        signal: timeout.signal,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`GET /models answered HTTP ${res.statusCode}`);
      }
      const page = (await res.body.json()) as { data?: { id: string }[] };
      this.discovered = (page.data ?? []).map((m) => m.id);
      this.hasDiscovered = true;
      this.healthy = true;
      // Reachable is not the same as answering completions: the passive failure count (and so
      // an open circuit) stays until a real call succeeds.
      if (this.failures < BREAKER_THRESHOLD) this.lastError = null;
    } catch (err) {
      this.healthy = false;
      this.lastError = timeout.signal.aborted
        ? `no answer to GET /models within ${HEALTH_TIMEOUT_MS} ms`
        : (err as Error).message;
    } finally {
      clearTimeout(timer);
      this.lastCheckedAt = new Date();
    }
  }

  /** Closes its connections once the requests on them are done (the backend was replaced). */
  close(): void {
    void this.http.close().catch(() => undefined);
  }

  status() {
    return {
      name: this.name,
      baseUrl: this.row.baseUrl,
      enabled: this.row.enabled,
      healthy: this.healthy && this.state !== 'unhealthy',
      state: this.state,
      circuitOpen: this.circuitOpen,
      outstanding: this.outstanding,
      models: this.models,
      lastError: this.lastError,
      lastCheckedAt: this.lastCheckedAt,
    };
  }
}
