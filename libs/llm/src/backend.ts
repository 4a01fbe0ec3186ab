import OpenAI from 'openai';
import type { BackendRow } from './backends.repository.js';

/** Consecutive failures that open the circuit, and how long it then stays open. */
const BREAKER_THRESHOLD = 3;
const BREAKER_OPEN_MS = 15_000;
const HEALTH_TIMEOUT_MS = 2_000;

/** One upstream LLM server as the pool sees it: its client, its load and its health. */
export class Backend {
  readonly client: OpenAI;
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

  constructor(
    readonly row: BackendRow,
    apiKey: string | null,
  ) {
    this.client = new OpenAI({
      baseURL: row.baseUrl,
      apiKey: apiKey ?? 'none',
      maxRetries: 0,
      // The pool's own timer enforces the time to first token; this is only a backstop.
      timeout: row.timeoutMs * 2,
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

  /** May take a request now: enabled, healthy, circuit not open, below its concurrency cap. */
  get available(): boolean {
    return (
      this.row.enabled &&
      this.healthy &&
      Date.now() >= this.openUntil &&
      this.outstanding < this.row.maxConcurrent
    );
  }

  get circuitOpen(): boolean {
    return Date.now() < this.openUntil;
  }

  /** Lower is better: weighted least outstanding requests. */
  get load(): number {
    return (this.outstanding + 1) / this.row.weight;
  }

  recordSuccess(): void {
    this.failures = 0;
    this.openUntil = 0;
  }

  recordFailure(reason: string): void {
    this.lastError = reason;
    this.failures++;
    if (this.failures >= BREAKER_THRESHOLD) this.openUntil = Date.now() + BREAKER_OPEN_MS;
  }

  /** Active health check: GET /v1/models answers in time. */
  async checkHealth(): Promise<void> {
    try {
      const page = await this.client.models.list({
        timeout: HEALTH_TIMEOUT_MS,
        signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
      });
      this.discovered = page.data.map((m) => m.id);
      this.hasDiscovered = true;
      this.healthy = true;
      this.lastError = null;
      this.recordSuccess();
    } catch (err) {
      this.healthy = false;
      this.lastError = healthFailure(err);
    } finally {
      this.lastCheckedAt = new Date();
    }
  }

  status() {
    return {
      name: this.name,
      baseUrl: this.row.baseUrl,
      enabled: this.row.enabled,
      healthy: this.healthy,
      circuitOpen: this.circuitOpen,
      outstanding: this.outstanding,
      models: this.models,
      lastError: this.lastError,
      lastCheckedAt: this.lastCheckedAt,
    };
  }
}

/**
 * What a failed health check shows admins and auditors: the status or the kind of failure, in
 * fixed words. Never the target's response body or headers (a backend URL pointed at some other
 * service would otherwise read it out through the console).
 */
export function healthFailure(err: unknown): string {
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number') return `health check answered HTTP ${status}`;
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'APIConnectionTimeoutError' || name === 'TimeoutError' || name === 'AbortError') {
    return 'health check timed out';
  }
  if (err instanceof SyntaxError) return 'health check got an answer that is not a models list';
  return 'health check could not connect';
}
