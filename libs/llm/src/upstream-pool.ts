import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type Config, InjectConfig } from '@enclave/config';
import { ConfigEvents } from '@enclave/db';
import { ApiError } from '@enclave/http';
import { Metrics, PeriodicTask } from '@enclave/observability';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
} from 'openai/resources/chat/completions';
import type { Completion, CompletionCreateParams } from 'openai/resources/completions';
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { hostname } from 'node:os';
import { createParser } from 'eventsource-parser';
import { DataSource } from 'typeorm';
import type { Dispatcher } from 'undici';
import { Backend, type BackendState } from './backend.js';
import { BackendsRepository } from './backends.repository.js';
import { SecretBox } from './secret-box.js';
import { localError, UpstreamFailure, upstreamError } from './upstream-error.js';

/** How many backends one request may try before giving up. */
const MAX_ATTEMPTS = 3;

/** This process, as it reports the backends' passive health to the others. */
const INSTANCE = `${hostname()}:${process.pid}`;

interface SlotWaiter {
  model: string;
  wake(freed: boolean): void;
}

export interface Routed<T> {
  backend: string;
  result: T;
}

/** A backend's answer to a Responses API request, in the API the backend speaks. */
export type ResponsesAnswer =
  { api: 'responses'; response: Response } | { api: 'chat'; completion: ChatCompletion };

export type ResponsesStream =
  | { api: 'responses'; events: AsyncIterable<ResponseStreamEvent> }
  | { api: 'chat'; chunks: AsyncIterable<ChatCompletionChunk> };

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
  private healthChecks: PeriodicTask | null = null;
  /** Whether this process made sure the configured upstream exists (done once, when the table is there). */
  private seeded = false;
  private readonly box: SecretBox;
  private reloading: Promise<void> = Promise.resolve();
  /** Requests waiting for a backend at its concurrency cap to free a slot, oldest first. */
  private readonly waiters: SlotWaiter[] = [];
  /** The state last reported (metric and database) per backend name. */
  private readonly reported = new Map<string, BackendState>();

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
      this.log.warn({ err }, 'backends not loaded yet');
    }
    this.healthChecks = new PeriodicTask(() => this.checkHealth(), {
      name: 'backend health check',
      everyMs: this.config.upstream.healthIntervalMs,
      log: this.log,
    }).start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.healthChecks?.stop();
    for (const b of this.backends) b.close();
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
    for (const old of previous.values()) {
      if (!this.backends.includes(old)) old.close();
      if (!this.backends.some((b) => b.name === old.name)) {
        this.metrics.forgetBackend(old.name);
        this.reported.delete(old.name);
      }
    }
    this.aliases = aliases;
    await this.checkHealth(
      this.backends.filter((b) => !previous.has(b.row.id) || !b.lastCheckedAt),
    );
  }

  async checkHealth(backends: Backend[] = this.backends): Promise<void> {
    await Promise.all(backends.filter((b) => b.row.enabled).map((b) => b.checkHealth()));
    for (const b of backends) this.noteState(b, true);
  }

  /**
   * Publishes a backend's state when it changed: the `enclave_backend_healthy` gauge here, and a
   * row the admin dashboard reads (other processes see other traffic). A backend not healthy is
   * reported again at each health check, so the dashboard can tell a fresh report from one left
   * by a process that is gone.
   */
  private noteState(b: Backend, periodic = false): void {
    const state: BackendState = b.row.enabled ? b.state : 'healthy';
    const before = this.reported.get(b.name);
    if (state === before && !(periodic && state !== 'healthy')) return;
    this.reported.set(b.name, state);
    this.metrics.backendHealth(b.name, b.row.enabled && state !== 'unhealthy');
    if (before === undefined && state === 'healthy') return;
    void this.repo
      .reportHealth(b.row.id, INSTANCE, state, b.lastError)
      .catch((err) => this.log.warn({ err, backend: b.name }, 'health not reported'));
  }

  status() {
    return this.backends.map((b) => b.status());
  }

  /**
   * Every backend's status as this process sees it, made worse by what any process reported
   * from its real traffic within the last three health-check intervals: what the admin console
   * shows (the admin process serves no completions itself).
   */
  async statusAcrossInstances() {
    const reported = await this.repo.reportedHealth(3 * this.config.upstream.healthIntervalMs);
    const rank: Record<BackendState, number> = { healthy: 0, degraded: 1, unhealthy: 2 };
    return this.status().map((s) => {
      const other = reported.get(s.name);
      if (!other || rank[other.state] <= rank[s.state]) return s;
      return {
        ...s,
        state: other.state,
        healthy: s.healthy && other.state !== 'unhealthy',
        lastError: other.lastError ?? s.lastError,
      };
    });
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

  async chat(
    body: ChatCompletionCreateParams,
    signal: AbortSignal,
  ): Promise<Routed<ChatCompletion>> {
    return this.answer<ChatCompletion>('/chat/completions', body, signal);
  }

  /**
   * Resolves once a backend produced its first chunk (so a backend that accepts the connection
   * and then stalls is still failed over); the chunks, that first one included, follow.
   */
  async chatStream(
    body: ChatCompletionCreateParams,
    signal: AbortSignal,
  ): Promise<Routed<AsyncIterable<ChatCompletionChunk>>> {
    return this.answerStream<ChatCompletionChunk>('/chat/completions', body, signal);
  }

  /** A legacy text completion (`/completions`), routed and failed over as chat is. */
  async completions(
    body: CompletionCreateParams,
    signal: AbortSignal,
  ): Promise<Routed<Completion>> {
    return this.answer<Completion>('/completions', body, signal);
  }

  async completionsStream(
    body: CompletionCreateParams,
    signal: AbortSignal,
  ): Promise<Routed<AsyncIterable<Completion>>> {
    return this.answerStream<Completion>('/completions', body, signal);
  }

  private async answer<T>(
    path: string,
    body: { model: string },
    signal: AbortSignal,
  ): Promise<Routed<T>> {
    const payload = serialise(() => ({ ...body, model: this.resolve(body.model), stream: false }));
    return this.route(body.model, signal, async (backend, sig) => {
      const res = await backend.post(path, payload, sig);
      return readJson<T>(res.body);
    });
  }

  private async answerStream<T>(
    path: string,
    body: { model: string },
    signal: AbortSignal,
  ): Promise<Routed<AsyncIterable<T>>> {
    const payload = serialise(() => streamBody(body, this.resolve(body.model)));
    return this.route(body.model, signal, async (backend, sig, hold) => {
      const res = await backend.post(path, payload, sig, 'text/event-stream');
      return relayAfterFirst(res, sseChunks<T>(res.body), hold);
    });
  }

  /**
   * A Responses API request (`POST /v1/responses`): forwarded as is to a backend that serves the
   * Responses API itself (`responses_api`), else sent to another as the equivalent chat
   * completion (`chat`, translated by the caller, which also translates the answer back). Either
   * kind of backend can take over when another fails.
   */
  async respond(
    body: { model: string },
    chat: ChatCompletionCreateParams,
    signal: AbortSignal,
  ): Promise<Routed<ResponsesAnswer>> {
    const model = this.resolve(body.model);
    const responses = serialise(() => ({ ...body, model, stream: false }));
    const completions = serialise(() => ({ ...chat, model, stream: false }));
    return this.route(body.model, signal, async (backend, sig) => {
      if (backend.row.responsesApi) {
        const res = await backend.post('/responses', responses, sig);
        return { api: 'responses', response: await readJson<Response>(res.body) };
      }
      const res = await backend.post('/chat/completions', completions, sig);
      return { api: 'chat', completion: await readJson<ChatCompletion>(res.body) };
    });
  }

  /** `respond`, streamed: resolves once the chosen backend produced its first event. */
  async respondStream(
    body: { model: string },
    chat: ChatCompletionCreateParams,
    signal: AbortSignal,
  ): Promise<Routed<ResponsesStream>> {
    const model = this.resolve(body.model);
    const responses = serialise(() => ({ ...body, model, stream: true }));
    const completions = serialise(() => streamBody(chat, model));
    return this.route(body.model, signal, async (backend, sig, hold) => {
      if (backend.row.responsesApi) {
        const res = await backend.post('/responses', responses, sig, 'text/event-stream');
        const events = responseEvents(sseChunks<ResponseStreamEvent>(res.body));
        return { api: 'responses', events: await relayAfterFirst(res, events, hold) };
      }
      const res = await backend.post('/chat/completions', completions, sig, 'text/event-stream');
      const chunks = sseChunks<ChatCompletionChunk>(res.body);
      return { api: 'chat', chunks: await relayAfterFirst(res, chunks, hold) };
    });
  }

  async embeddings(
    body: EmbeddingCreateParams,
    signal: AbortSignal,
  ): Promise<Routed<CreateEmbeddingResponse>> {
    const payload = serialise(() => ({ ...body, model: this.resolve(body.model) }));
    return this.route(body.model, signal, async (backend, sig) => {
      const res = await backend.post('/embeddings', payload, sig);
      return readJson<CreateEmbeddingResponse>(res.body);
    });
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

  /**
   * Like pick, but when every usable backend serving the model is at its concurrency cap, waits
   * for one of them to free a slot, up to the longest of their timeouts (or the client leaving).
   * Null when nothing could serve, or no slot came free in time.
   */
  private async pickOrWait(
    model: string,
    tried: Set<Backend>,
    signal: AbortSignal,
  ): Promise<Backend | null> {
    const real = this.resolve(model);
    let deadline = 0;
    for (;;) {
      const backend = this.pick(model, tried);
      if (backend || signal.aborted) return backend;
      const busy = this.backends.filter((b) => !tried.has(b) && b.usable && b.serves(real));
      if (busy.length === 0) return null;
      deadline ||= Date.now() + Math.max(...busy.map((b) => b.row.timeoutMs));
      const wait = deadline - Date.now();
      if (wait <= 0 || !(await this.slotFreed(real, wait, signal))) {
        throw new ApiError(
          503,
          'backends_busy',
          `Every model server serving '${model}' stayed at its concurrency limit; retry shortly or ask an administrator to add capacity.`,
          { type: 'server_error', headers: { 'retry-after': '1' } },
        );
      }
    }
  }

  /** Resolves true when a backend serving the model frees a slot within `ms`, else false. */
  private slotFreed(model: string, ms: number, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: SlotWaiter = {
        model,
        wake: (freed) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          resolve(freed);
        },
      };
      const onAbort = () => waiter.wake(false);
      const timer = setTimeout(() => waiter.wake(false), ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** A request on `backend` ended: the first waiter its models can serve gets the slot. */
  private release(backend: Backend): void {
    backend.outstanding--;
    if (this.waiters.length === 0) return;
    const waiter = this.waiters.find((w) => backend.serves(w.model));
    waiter?.wake(true);
  }

  private async route<T>(
    model: string,
    signal: AbortSignal,
    run: (
      backend: Backend,
      signal: AbortSignal,
      hold: () => (broken: boolean) => void,
    ) => Promise<T>,
  ): Promise<Routed<T>> {
    const tried = new Set<Backend>();
    let lastError: ApiError | null = null;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const backend = await this.pickOrWait(model, tried, signal);
      if (!backend) break;
      tried.add(backend);
      backend.outstanding++;
      // One controller per attempt, aborted by its own first-token timer or by the client
      // leaving; both are undone when the attempt ends (a stream: when it ends), so nothing of
      // the request outlives it (AbortSignal.any would, nodejs/node#55328).
      const attemptAbort = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        attemptAbort.abort();
      }, backend.row.timeoutMs);
      const onClientAbort = () => attemptAbort.abort();
      signal.addEventListener('abort', onClientAbort, { once: true });
      const end = () => {
        signal.removeEventListener('abort', onClientAbort);
        this.release(backend);
      };
      // A stream keeps counting as outstanding (and abortable by the client) until it ends: it
      // takes over the end.
      let held = false;
      const hold = () => {
        held = true;
        clearTimeout(timer);
        let ended = false;
        return (broken: boolean) => {
          if (ended) return;
          ended = true;
          if (broken && !signal.aborted) {
            backend.recordFailure('upstream_stream_broken');
            this.noteState(backend);
          }
          end();
        };
      };
      try {
        const result = await run(backend, attemptAbort.signal, hold);
        backend.recordSuccess();
        this.noteState(backend);
        return { backend: backend.name, result };
      } catch (err) {
        if (signal.aborted) throw clientGone();
        const failure = timedOut ? null : UpstreamFailure.from(err);
        if (!timedOut && !(failure instanceof UpstreamFailure)) {
          // Enclave's own failure: the backend did nothing wrong, and another would not help.
          this.log.error({ err, backend: backend.name, model }, 'completion failed inside Enclave');
          throw localError(err, false);
        }
        const error = upstreamError(failure as UpstreamFailure | null, timedOut, backend.name);
        if (!isRetryable(error)) throw error;
        backend.recordFailure(error.code);
        this.noteState(backend);
        this.log.warn(
          { backend: backend.name, code: error.code, model },
          'backend failed; trying another',
        );
        lastError = error;
      } finally {
        clearTimeout(timer);
        if (!held) end();
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

/** The JSON text of a request body; a body that cannot be serialised is the caller's to fix. */
function serialise(body: () => unknown): string {
  try {
    return JSON.stringify(body());
  } catch (err) {
    throw localError(err, true);
  }
}

async function readJson<T>(body: Dispatcher.ResponseData['body']): Promise<T> {
  const text = await body.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw UpstreamFailure.protocol('the answer is not JSON');
  }
}

/** The `data:` payloads of an OpenAI-style SSE stream as objects, up to `[DONE]`. */
async function* sseChunks<T>(body: Dispatcher.ResponseData['body']): AsyncGenerator<T> {
  let events: string[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event.data) });
  const decoder = new TextDecoder();
  for await (const bytes of body) {
    parser.feed(decoder.decode(bytes as Buffer, { stream: true }));
    if (events.length === 0) continue;
    const ready = events;
    events = [];
    for (const data of ready) {
      if (data === '[DONE]') return;
      let chunk: Awaited<T> & { error?: unknown };
      try {
        chunk = JSON.parse(data);
      } catch {
        throw UpstreamFailure.protocol('a stream event is not JSON');
      }
      if (chunk.error) throw UpstreamFailure.protocol('the stream ended with an error event');
      yield chunk;
    }
  }
}

/** The client left: what the aborted request ends with (nobody is there to read it). */
function clientGone(): ApiError {
  return new ApiError(499, 'client_disconnected', 'The client closed the connection.');
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

/** A chat completion request as streamed upstream: Enclave always asks for usage, to count it. */
/** A streamed request's body: usage asked for at the end, so it is counted. */
function streamBody(body: { model: string }, model: string) {
  return { ...body, model, stream: true, stream_options: { include_usage: true } };
}

/**
 * Waits for the first item of an upstream stream (so a backend that accepts the connection and
 * then stalls is still failed over), then holds the backend until the stream ends; the items,
 * that first one included, follow.
 */
async function relayAfterFirst<T>(
  res: Dispatcher.ResponseData,
  iterator: AsyncGenerator<T>,
  hold: () => (broken: boolean) => void,
): Promise<AsyncIterable<T>> {
  let first: IteratorResult<T>;
  try {
    first = await iterator.next();
  } catch (err) {
    res.body.destroy();
    throw err;
  }
  const release = hold();
  return (async function* () {
    let broken = false;
    try {
      if (first.done) return;
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        yield next.value;
      }
    } catch (err) {
      broken = true;
      throw UpstreamFailure.from(err);
    } finally {
      // Ends the upstream request too when the consumer stops early (client gone).
      res.body.destroy();
      release(broken);
    }
  })();
}

/**
 * Responses API events up to the end of the response (`response.completed` or
 * `response.incomplete`); an error event, or an end before that, is the backend's failure.
 */
async function* responseEvents(
  events: AsyncGenerator<ResponseStreamEvent>,
): AsyncGenerator<ResponseStreamEvent> {
  for await (const event of events) {
    if (event.type === 'error' || event.type === 'response.failed') {
      throw UpstreamFailure.protocol('the stream ended with an error event');
    }
    yield event;
    if (event.type === 'response.completed' || event.type === 'response.incomplete') return;
  }
  // Without its final event the answer is incomplete: the backend broke off.
  throw UpstreamFailure.protocol('the stream ended before the response was complete');
}
