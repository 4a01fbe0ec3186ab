import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type Config, InjectConfig } from '@enclave/config';
import { ConfigEvents } from '@enclave/db';
import { ApiError } from '@enclave/http';
import { Metrics } from '@enclave/observability';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
} from 'openai/resources/chat/completions';
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import { DataSource } from 'typeorm';
import { Backend } from './backend.js';
import { BackendsRepository } from './backends.repository.js';
import { SecretBox } from './secret-box.js';
import { upstreamError } from './upstream-error.js';

/** How many backends one request may try before giving up. */
const MAX_ATTEMPTS = 3;

export interface Routed<T> {
  backend: string;
  result: T;
}

/**
 * The company's LLM servers as one pool: weighted least-outstanding routing among healthy
 * backends that serve the model, active health checks and a passive circuit breaker, and
 * failover before the first token (invisible to the client). Backends live in the database,
 * seeded from ENCLAVE_UPSTREAM_URL on first start, and reload on change in every instance.
 */
@Injectable()
export class UpstreamPool implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('UpstreamPool');
  private backends: Backend[] = [];
  private aliases = new Map<string, string>();
  private healthTimer: NodeJS.Timeout | null = null;
  /** Whether this process made sure the configured upstream exists (done once, when the table is there). */
  private seeded = false;
  private readonly box: SecretBox;
  private reloading: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: BackendsRepository,
    private readonly dataSource: DataSource,
    private readonly events: ConfigEvents,
    private readonly metrics: Metrics,
    @InjectConfig() private readonly config: Config,
  ) {
    this.box = SecretBox.fromConfig(config);
  }

  async onModuleInit(): Promise<void> {
    this.events.on('backends', () => this.reload());
    try {
      await this.reload();
    } catch (err) {
      // Most likely migrations are not applied yet (readiness says so); the periodic resync of
      // ConfigEvents loads the backends once they are.
      this.log.warn({ err: (err as Error).message }, 'backends not loaded yet');
    }
    this.healthTimer = setInterval(
      () => void this.checkHealth(),
      this.config.upstream.healthIntervalMs,
    );
    this.healthTimer.unref();
  }

  onApplicationShutdown(): void {
    if (this.healthTimer) clearInterval(this.healthTimer);
  }

  /**
   * Re-reads backends and aliases; keeps the live counters of backends that did not change.
   * Reloads run one after another: a change notice arriving while an explicit reload runs must
   * not start a second health check of the same new backend that could land after the first.
   */
  reload(): Promise<void> {
    const next = this.reloading.catch(() => undefined).then(() => this.reloadNow());
    this.reloading = next;
    return next;
  }

  private async reloadNow(): Promise<void> {
    if (!this.seeded) {
      await this.seedFromConfig();
      this.seeded = true;
    }
    const [rows, aliases] = await Promise.all([this.repo.list(), this.repo.aliases()]);
    const previous = new Map(this.backends.map((b) => [b.row.id, b]));
    this.backends = rows.map((row) => {
      const old = previous.get(row.id);
      if (old && old.row.updatedAt.getTime() === row.updatedAt.getTime()) return old;
      return new Backend(row, row.apiKeySealed ? this.box.open(row.apiKeySealed) : null);
    });
    for (const gone of previous.values()) {
      if (!this.backends.some((b) => b.name === gone.name)) this.metrics.forgetBackend(gone.name);
    }
    this.aliases = aliases;
    await this.checkHealth(
      this.backends.filter((b) => !previous.has(b.row.id) || !b.lastCheckedAt),
    );
  }

  async checkHealth(backends: Backend[] = this.backends): Promise<void> {
    await Promise.all(backends.filter((b) => b.row.enabled).map((b) => b.checkHealth()));
    for (const b of backends) this.metrics.backendHealth(b.name, b.row.enabled && b.healthy);
  }

  status() {
    return this.backends.map((b) => b.status());
  }

  /**
   * A stamp of an enabled backend's configuration (null when it is gone or disabled): what a
   * cached answer was produced under, so a changed backend invalidates it.
   */
  versionOf(name: string): string | null {
    const b = this.backends.find((x) => x.name === name);
    return b?.row.enabled ? `${b.row.id}@${b.row.updatedAt.toISOString()}` : null;
  }

  /** The real model behind a name (aliases such as `default` resolved). */
  resolve(model: string): string {
    return this.aliases.get(model) ?? model;
  }

  /**
   * Whether any backend, enabled or not, serves the model: a model whose backends are all
   * disabled or down still exists (routing answers 503), one nobody serves does not (404).
   * 'unknown' while a backend that lists its models itself has not been reached yet.
   */
  knows(model: string): 'yes' | 'no' | 'unknown' {
    const real = this.resolve(model);
    if (this.backends.some((b) => b.serves(real))) return 'yes';
    return this.backends.some((b) => !b.row.models?.length && !b.hasDiscovered) ? 'unknown' : 'no';
  }

  /** Every model (and alias) an enabled backend serves. */
  models(): string[] {
    const served = new Set(this.backends.filter((b) => b.row.enabled).flatMap((b) => b.models));
    for (const [alias, model] of this.aliases) if (served.has(model)) served.add(alias);
    return [...served].sort();
  }

  chat(body: ChatCompletionCreateParams, signal: AbortSignal): Promise<Routed<ChatCompletion>> {
    return this.route(body.model, signal, (backend, sig) =>
      backend.client.chat.completions.create(
        { ...body, model: this.resolve(body.model), stream: false },
        { signal: sig },
      ),
    );
  }

  /**
   * Resolves once a backend produced its first chunk (so a backend that accepts the connection
   * and then stalls is still failed over); the chunks, that first one included, follow.
   */
  chatStream(
    body: ChatCompletionCreateParams,
    signal: AbortSignal,
  ): Promise<Routed<AsyncIterable<ChatCompletionChunk>>> {
    return this.route(body.model, signal, async (backend, sig, hold) => {
      const stream = await backend.client.chat.completions.create(
        {
          ...body,
          model: this.resolve(body.model),
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal: sig },
      );
      const iterator = stream[Symbol.asyncIterator]();
      const first = await iterator.next();
      const release = hold();
      return (async function* () {
        try {
          if (first.done) return;
          yield first.value;
          for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
            yield next.value;
          }
        } finally {
          release();
          await iterator.return?.();
        }
      })();
    });
  }

  embeddings(
    body: EmbeddingCreateParams,
    signal: AbortSignal,
  ): Promise<Routed<CreateEmbeddingResponse>> {
    return this.route(body.model, signal, (backend, sig) =>
      backend.client.embeddings.create(
        { ...body, model: this.resolve(body.model) },
        { signal: sig },
      ),
    );
  }

  /** Picks the least loaded available backend serving the model, skipping those already tried. */
  pick(model: string, tried: Set<Backend> = new Set()): Backend | null {
    const real = this.resolve(model);
    let best: Backend | null = null;
    for (const b of this.backends) {
      if (tried.has(b) || !b.available || !b.serves(real)) continue;
      if (!best || b.load < best.load || (b.load === best.load && Math.random() < 0.5)) best = b;
    }
    return best;
  }

  private async route<T>(
    model: string,
    signal: AbortSignal,
    run: (backend: Backend, signal: AbortSignal, hold: () => () => void) => Promise<T>,
  ): Promise<Routed<T>> {
    const tried = new Set<Backend>();
    let lastError: ApiError | null = null;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const backend = this.pick(model, tried);
      if (!backend) break;
      tried.add(backend);
      backend.outstanding++;
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), backend.row.timeoutMs);
      // A stream keeps counting as outstanding until it ends: it takes over the release.
      let held = false;
      const hold = () => {
        held = true;
        let released = false;
        return () => {
          if (!released) backend.outstanding--;
          released = true;
        };
      };
      try {
        const result = await run(backend, AbortSignal.any([signal, timeout.signal]), hold);
        backend.recordSuccess();
        return { backend: backend.name, result };
      } catch (err) {
        if (signal.aborted) throw err;
        const error = upstreamError(err, timeout.signal.aborted, backend.name);
        if (!isRetryable(error)) throw error;
        backend.recordFailure(error.code);
        this.log.warn(
          { backend: backend.name, code: error.code, model },
          'backend failed; trying another',
        );
        lastError = error;
      } finally {
        clearTimeout(timer);
        if (!held) backend.outstanding--;
      }
    }
    throw (
      lastError ??
      new ApiError(
        503,
        'no_backend_available',
        `No healthy model server serves '${model}' right now; try again shortly or ask an administrator.`,
        { type: 'server_error' },
      )
    );
  }

  /** First start: the configured upstream becomes the first backend. */
  private async seedFromConfig(): Promise<void> {
    const { upstream } = this.config;
    const [{ n }] = await this.dataSource.query('SELECT count(*)::int AS n FROM backends');
    if (n > 0) return;
    await this.repo.insert(this.dataSource.manager, {
      name: upstream.isBundledSimulator
        ? 'llm-sim'
        : new URL(upstream.url).host.replace(/[^a-z0-9._-]/gi, '-').toLowerCase(),
      baseUrl: upstream.url,
      apiKeySealed: upstream.apiKey ? this.box.seal(upstream.apiKey) : null,
      models: null,
      weight: 1,
      maxConcurrent: 256,
      timeoutMs: upstream.timeoutMs,
      enabled: true,
    });
  }
}

/** Failures another backend may not have: it is down, slow, overloaded or broken. */
function isRetryable(error: ApiError): boolean {
  return [
    'upstream_unavailable',
    'upstream_timeout',
    'upstream_error',
    'upstream_rate_limited',
  ].includes(error.code);
}
