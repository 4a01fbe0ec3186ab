import { Injectable, Logger } from '@nestjs/common';
import { AuditLog, type AuditOutcome } from '@enclave/audit';
import { type Principal, principalActor } from '@enclave/auth';
import {
  ApiError,
  DATABASE_RETRY_AFTER_SECONDS,
  isDatabaseUnavailable,
  type RequestMeta,
} from '@enclave/http';
import {
  type CachedAnswer,
  localError,
  ResponseCache,
  type Routed,
  UpstreamFailure,
  UpstreamPool,
} from '@enclave/llm';
import type { FinishedMessage, PendingMessage } from '@enclave/conversations';
import {
  PolicyService,
  rateLimitHeaders,
  type RuntimePolicies,
  RuntimePoliciesService,
} from '@enclave/policy';
import { Metrics } from '@enclave/observability';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
} from 'openai/resources/chat/completions';
import type { Completion, CompletionCreateParams } from 'openai/resources/completions';
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type {
  ChatCompletionRequest,
  EmbeddingsRequest,
  TextCompletionRequest,
} from './chat-request.schema.js';
import { ChatInstance } from './chat-instance.js';
import { chatJob, choicesOf, type CompletionJob, textJob } from './completion-job.js';
import { type CompletionRecord, CompletionRecords, incrementsOf } from './completion-records.js';
import type { SseSink } from './sse.js';
import {
  type AnswerChunk,
  type OtherChoice,
  replayAsChunks,
  StreamAccumulator,
} from './stream-accumulator.js';

export interface CompletionContext {
  principal: Principal;
  meta: RequestMeta;
  /** The chat UI's conversation the answer belongs to; null for plain API calls. */
  conversationId: string | null;
  /** The message the answer follows in its conversation (versions share it). */
  parentMessageId?: string | null;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

/**
 * Where an admitted chat request goes: the upstream pool by default, or a caller's stand-in for it
 * (the Responses API sends the same request to a backend that may speak another API).
 */
export type ChatCall = (
  request: ChatCompletionCreateParams,
  signal: AbortSignal,
) => Promise<Routed<ChatCompletion>>;
export type ChatStreamCall = (
  request: ChatCompletionCreateParams,
  signal: AbortSignal,
) => Promise<Routed<AsyncIterable<ChatCompletionChunk>>>;

/** Whether a deterministic request was answered from the cache; null when not cacheable. */
export type CacheState = 'hit' | 'miss' | null;

export interface Answered<R = ChatCompletion> {
  completion: R;
  cache: CacheState;
  /** The `x-ratelimit-*` headers (none when no limit applies). */
  headers: Record<string, string>;
}

function cacheState(key: Buffer | null, cached: CachedAnswer | null): CacheState {
  return key ? (cached ? 'hit' : 'miss') : null;
}

/** How a completion went, for its audit event. */
interface How {
  stream: boolean;
  cache: CacheState;
  errorCode?: string | null;
  /** With `n` > 1: the choices beyond the stored one. */
  others?: OtherChoice[];
}

const AUDIT_OUTCOME: Record<FinishedMessage['outcome'], AuditOutcome> = {
  completed: 'success',
  client_disconnected: 'partial',
  upstream_error: 'failure',
  failed: 'failure',
};

const REJECTION_KIND: Record<string, 'quota' | 'budget'> = {
  quota_exceeded: 'quota',
  budget_exceeded: 'budget',
};

/**
 * A chat completion end to end: model access, the upstream call (relayed as it arrives when
 * streamed), and the stored assistant message plus its audit event, committed together.
 */
@Injectable()
export class ChatCompletionsService {
  private readonly log = new Logger('Completions');

  constructor(
    private readonly pool: UpstreamPool,
    private readonly records: CompletionRecords,
    private readonly instance: ChatInstance,
    private readonly audit: AuditLog,
    private readonly dataSource: DataSource,
    private readonly metrics: Metrics,
    private readonly policy: PolicyService,
    private readonly cache: ResponseCache,
    private readonly runtimePolicies: RuntimePoliciesService,
  ) {}

  /** The models this caller may use. */
  modelsFor(principal: Principal): string[] {
    const served = this.pool.models();
    const scope = principal.apiKey?.models;
    const allowed = this.policy.modelsAllowed(principal, served, (m) => this.pool.resolve(m));
    return scope ? allowed.filter((m) => scope.includes(m)) : allowed;
  }

  assertModelAllowed(principal: Principal, model: string): void {
    const scope = principal.apiKey?.models;
    if (scope && !scope.includes(model) && !scope.includes(this.pool.resolve(model))) {
      throw new ApiError(
        403,
        'model_not_allowed',
        `This API key may not use the model '${model}'; it may use: ${scope.join(', ') || 'none'}.`,
        { param: 'model' },
      );
    }
    if (this.pool.knows(model) === 'no') {
      throw new ApiError(
        404,
        'model_not_found',
        `The model '${model}' does not exist; GET /v1/models lists the models you may use.`,
        { param: 'model' },
      );
    }
    this.policy.assertModelAllowed(principal, model, this.pool.resolve(model));
  }

  /**
   * Model access, rate limits, quotas and budgets: throws the 403/404/429 that refuses the request, else
   * returns the `x-ratelimit-*` headers of where the caller stands.
   */
  async admit(principal: Principal, model: string): Promise<Record<string, string>> {
    this.assertModelAllowed(principal, model);
    try {
      return rateLimitHeaders(await this.policy.admit(principal));
    } catch (err) {
      if (err instanceof ApiError && err.getStatus() === 429) {
        this.metrics.rejected(REJECTION_KIND[err.code] ?? 'rate_limit');
      }
      throw err;
    }
  }

  /** A chat completion; `upstream` is the call that answers it (a Responses request brings its own). */
  async complete(
    ctx: CompletionContext,
    body: ChatCompletionRequest,
    upstream: ChatCall = (request, signal) => this.pool.chat(request, signal),
    endpoint: 'chat/completions' | 'responses' = 'chat/completions',
    /** What else the answer depends on, for the cache key (a Responses request's own fields). */
    cacheKeyAlso?: Record<string, unknown>,
  ): Promise<Answered> {
    const request = this.withDefaultSystemPrompt(toUpstream(body) as ChatCompletionCreateParams);
    const job = chatJob(body, endpoint);
    return this.answer(ctx, job, keyed(request, cacheKeyAlso), (signal) =>
      upstream(request, signal),
    );
  }

  /** A legacy text completion (`/v1/completions`): not cached, otherwise as chat. */
  async completeText(
    ctx: CompletionContext,
    body: TextCompletionRequest,
  ): Promise<Answered<Completion>> {
    const request = toUpstream(body) as unknown as CompletionCreateParams;
    return this.answer(ctx, textJob(body), null, (signal) =>
      this.pool.completions(request, signal),
    );
  }

  /**
   * The non-streamed pipeline: admission, cache (when `cacheable`), the pending message, the
   * upstream call and the closing record. With `n` > 1 the message stores choice 0 and the
   * usage of all choices; the audit event names the others.
   */
  private async answer<R extends ChatCompletion | Completion>(
    ctx: CompletionContext,
    job: CompletionJob,
    cacheable: ChatCompletionCreateParams | null,
    call: (signal: AbortSignal) => Promise<{ backend: string; result: R }>,
  ): Promise<Answered<R>> {
    const { key, cached, messageId, headers } = await this.begin(ctx, job, cacheable, {
      admitted: false,
      stream: false,
    });
    const started = performance.now();
    let answer = cached as { backend: string; completion: R } | null;
    if (!answer) {
      try {
        const { backend, result } = await call(ctx.signal);
        answer = { backend, completion: result };
      } catch (err) {
        throw await this.failedBeforeAnswer(ctx, messageId, job, started, err, {
          stream: false,
          cache: key ? 'miss' : null,
        });
      }
      if (key) this.remember(key, answer as CachedAnswer);
    }
    const { completion } = answer;
    const { stored, others } = choicesOf(completion);
    const latencyMs = Math.round(performance.now() - started);
    await this.finish(
      ctx,
      messageId,
      job,
      { stream: false, cache: cacheState(key, cached), others },
      {
        upstream: answer.backend,
        ...stored,
        outcome: 'completed',
        promptTokens: completion.usage?.prompt_tokens ?? null,
        completionTokens: completion.usage?.completion_tokens ?? null,
        latencyMs,
        ttftMs: latencyMs,
        cacheHit: key ? cached !== null : null,
      },
    );
    return { completion, cache: cacheState(key, cached), headers };
  }

  /**
   * Streams the answer to `sink` as the upstream produces it. Errors before the first byte are
   * thrown (the caller answers with a JSON error); after it, they end the stream with an error
   * event. Either way the message and audit event record what happened.
   */
  async stream(
    ctx: CompletionContext,
    body: ChatCompletionRequest,
    sink: SseSink,
    {
      admitted = false,
      upstream = (request, signal) => this.pool.chatStream(request, signal),
      endpoint = 'chat/completions',
      cache = true,
      cacheKeyAlso,
    }: {
      admitted?: boolean;
      upstream?: ChatStreamCall;
      endpoint?: 'chat/completions' | 'responses';
      /** False: neither answered from the cache nor kept in it (a regenerated answer). */
      cache?: boolean;
      /** What else the answer depends on, for the cache key (as `complete` takes it). */
      cacheKeyAlso?: Record<string, unknown>;
    } = {},
  ): Promise<void> {
    const request = this.withDefaultSystemPrompt(toUpstream(body) as ChatCompletionCreateParams);
    await this.relay(
      ctx,
      chatJob(body, endpoint),
      cache ? keyed(request, cacheKeyAlso) : null,
      (signal) => upstream(request, signal),
      sink,
      {
        admitted,
        wantsUsage: body.stream_options?.include_usage === true,
      },
    );
  }

  /** A legacy text completion, streamed. */
  async streamText(
    ctx: CompletionContext,
    body: TextCompletionRequest,
    sink: SseSink,
  ): Promise<void> {
    const request = toUpstream(body) as unknown as CompletionCreateParams;
    await this.relay(
      ctx,
      textJob(body),
      null,
      (signal) => this.pool.completionsStream(request, signal),
      sink,
      { admitted: false, wantsUsage: body.stream_options?.include_usage === true },
    );
  }

  private async relay(
    ctx: CompletionContext,
    job: CompletionJob,
    cacheable: ChatCompletionCreateParams | null,
    call: (signal: AbortSignal) => Promise<{ backend: string; result: AsyncIterable<AnswerChunk> }>,
    sink: SseSink,
    { admitted, wantsUsage }: { admitted: boolean; wantsUsage: boolean },
  ): Promise<void> {
    const { key, cached, messageId, headers } = await this.begin(ctx, job, cacheable, {
      admitted,
      stream: true,
    });
    const started = performance.now();
    const cache = cacheState(key, cached);

    let chunks: AsyncIterable<AnswerChunk>;
    let backend: string;
    if (cached) {
      ({ backend } = cached);
      chunks = replayAsChunks(cached.completion);
    } else {
      try {
        ({ backend, result: chunks } = await call(ctx.signal));
      } catch (err) {
        throw await this.failedBeforeAnswer(ctx, messageId, job, started, err, {
          stream: true,
          cache,
        });
      }
    }

    sink.start({
      ...headers,
      'x-enclave-upstream': backend,
      ...(cache ? { 'x-enclave-cache': cache } : {}),
    });
    const acc = new StreamAccumulator();
    let ttftMs: number | null = null;
    let outcome: FinishedMessage['outcome'] = 'completed';
    let streamError: ApiError | null = null;
    let last: AnswerChunk | null = null;
    try {
      for await (const chunk of chunks) {
        ttftMs ??= Math.round(performance.now() - started);
        acc.add(chunk);
        last = chunk;
        if (chunk.usage && !wantsUsage) {
          // Enclave always asks the upstream for usage (to account for it); relay it only to
          // clients that asked.
          if (chunk.choices.length === 0) continue;
          await sink.send({ ...chunk, usage: null });
        } else {
          await sink.send(chunk);
        }
        if (ctx.signal.aborted) break;
      }
      if (ctx.signal.aborted) outcome = 'client_disconnected';
    } catch (err) {
      if (ctx.signal.aborted) {
        outcome = 'client_disconnected';
      } else if (err instanceof UpstreamFailure) {
        outcome = 'upstream_error';
        this.log.warn({ err, upstream: backend }, 'upstream stream broke mid-answer');
        streamError = new ApiError(
          502,
          'upstream_stream_broken',
          `The model server (${backend}) stopped in the middle of the answer; the partial answer was kept. Try again.`,
          { type: 'server_error' },
        );
      } else {
        // Enclave's own failure while relaying: not the model server's, and no internal text out.
        outcome = 'upstream_error';
        this.log.error({ err, upstream: backend }, 'relaying the stream failed inside Enclave');
        streamError = localError(err, false);
      }
    }
    if (key && !cached && outcome === 'completed' && last) {
      this.remember(key, { backend, completion: acc.toCompletion(last as ChatCompletionChunk) });
    }
    await this.finish(
      ctx,
      messageId,
      job,
      { stream: true, cache, errorCode: streamError?.code ?? null, others: acc.others },
      {
        upstream: backend,
        content: acc.content,
        toolCalls: acc.calls,
        outcome,
        finishReason: acc.finishReason,
        promptTokens: acc.promptTokens,
        completionTokens: acc.completionTokens ?? (acc.deltas || null),
        latencyMs: Math.round(performance.now() - started),
        ttftMs,
        cacheHit: cache === null ? null : cache === 'hit',
      },
    );
    // The end of the stream goes out once the answer is stored: a client that saw [DONE] can
    // rely on the record (an instance dying in between leaves it in_progress, never lost).
    if (streamError) sink.fail(streamError);
    else if (outcome === 'completed') sink.done();
  }

  /**
   * Records a completion that got no answer at all (no backend could serve, or the client left
   * before the first token) and returns the error for the caller, already audited.
   */
  private async failedBeforeAnswer(
    ctx: CompletionContext,
    messageId: string,
    job: CompletionJob,
    started: number,
    err: unknown,
    how: { stream: boolean; cache: CacheState },
  ): Promise<ApiError> {
    const error = asApiError(err, this.log);
    // A client that left is not an upstream failure, whatever the aborted call threw.
    const left = ctx.signal.aborted;
    await this.finish(
      ctx,
      messageId,
      job,
      { ...how, errorCode: left ? null : error.code },
      {
        ...emptyResult(started),
        outcome: left ? 'client_disconnected' : 'upstream_error',
        cacheHit: how.cache === null ? null : false,
      },
    );
    return error.markAudited();
  }

  /**
   * The request with the administrator's default system prompt in front when it carries no
   * system (or developer) message of its own. Done before the cache lookup, so a changed prompt
   * never answers from an entry made under another.
   */
  private withDefaultSystemPrompt(request: ChatCompletionCreateParams): ChatCompletionCreateParams {
    const prompt = this.runtimePolicies.get().defaultSystemPrompt;
    if (!prompt || request.messages.some((m) => m.role === 'system' || m.role === 'developer')) {
      return request;
    }
    return { ...request, messages: [{ role: 'system', content: prompt }, ...request.messages] };
  }

  /** The cache key of a deterministic request, and the cached answer if there is one. */
  private async lookup(
    ctx: CompletionContext,
    request: ChatCompletionCreateParams | null,
  ): Promise<{ key: Buffer | null; cached: CachedAnswer | null }> {
    const key = request && this.cache.keyFor(ctx.principal.userId, request);
    if (!key) return { key, cached: null };
    const cached = await this.cache.get(key);
    this.metrics.cache(cached !== null);
    return { key, cached };
  }

  /** Stores an answer for later hits, off the request's path. */
  private remember(key: Buffer, answer: CachedAnswer): void {
    void this.cache
      .put(key, answer)
      .catch((err) => this.log.warn({ err }, 'could not cache an answer'));
  }

  async embeddings(
    principal: Principal,
    meta: RequestMeta,
    body: EmbeddingsRequest,
    signal: AbortSignal,
  ): Promise<{ response: CreateEmbeddingResponse; headers: Record<string, string> }> {
    const headers = await this.admit(principal, body.model);
    let response: CreateEmbeddingResponse | null = null;
    let backend: string | null = null;
    let error: ApiError | null = null;
    try {
      ({ backend, result: response } = await this.pool.embeddings(
        body as EmbeddingCreateParams,
        signal,
      ));
    } catch (err) {
      error = asApiError(err, this.log);
    }
    await this.dataSource.transaction(async (db) => {
      if (response) {
        const resolved = this.pool.resolve(body.model);
        const tokens = response.usage?.prompt_tokens ?? 0;
        await this.policy.account(db, principal, body.model, resolved, tokens, 0);
      }
      await this.audit.append(db, {
        actor: principalActor(principal),
        action: 'embedding.created',
        target: { type: 'model', id: body.model },
        outcome: error ? 'failure' : 'success',
        meta,
        payload: {
          model: body.model,
          upstream: backend,
          inputs: Array.isArray(body.input) ? body.input.length : 1,
          promptTokens: response?.usage?.prompt_tokens ?? null,
          errorCode: error?.code ?? null,
        },
      });
    });
    if (error) throw error.markAudited();
    return { response: response!, headers };
  }

  /**
   * What comes before the upstream call: admission, the cache lookup and the pending message.
   * With the database away the request is refused with 503 `database_unavailable`, and that it
   * came (message `failed` and its audit event) goes to the spool, to be written once it is back.
   */
  private async begin(
    ctx: CompletionContext,
    job: CompletionJob,
    cacheable: ChatCompletionCreateParams | null,
    how: { admitted: boolean; stream: boolean },
  ): Promise<{
    key: Buffer | null;
    cached: CachedAnswer | null;
    messageId: string;
    headers: Record<string, string>;
  }> {
    const pending = this.pendingMessage(ctx, job.model);
    const arrived = new Date();
    const started = performance.now();
    try {
      const headers = how.admitted ? {} : await this.admit(ctx.principal, job.model);
      const { key, cached } = await this.lookup(ctx, cacheable);
      await this.records.start(pending);
      return { key, cached, messageId: pending.id, headers };
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      const error = new ApiError(
        503,
        'database_unavailable',
        `The database is not reachable right now; the request was recorded but not served. Try again in ${DATABASE_RETRY_AFTER_SECONDS} seconds.`,
        {
          type: 'server_error',
          headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
        },
      );
      const result: FinishedMessage = {
        ...emptyResult(started),
        outcome: 'failed',
        cacheHit: null,
      };
      try {
        await this.records.close(
          this.closingRecord(
            ctx,
            pending.id,
            job,
            { stream: how.stream, cache: null, errorCode: error.code },
            result,
            {
              ...pending,
              createdAt: arrived.toISOString(),
            },
          ),
        );
      } catch (recordErr) {
        this.log.error(
          { err: recordErr, requestId: ctx.meta.requestId },
          'refused request not recorded',
        );
        throw error;
      }
      throw error.markAudited();
    }
  }

  private pendingMessage(ctx: CompletionContext, model: string): PendingMessage {
    return {
      id: randomUUID(),
      instanceId: this.instance.id,
      conversationId: ctx.conversationId,
      parentId: ctx.parentMessageId ?? null,
      userId: ctx.principal.userId,
      apiKeyId: ctx.principal.apiKey?.id ?? null,
      model,
      requestId: ctx.meta.requestId,
    };
  }

  /**
   * The stored answer, its tokens on the quota counters and its audit event: one statement
   * (CompletionRecords), or the spool while the database is away.
   */
  private async finish(
    ctx: CompletionContext,
    messageId: string,
    job: CompletionJob,
    how: How,
    result: FinishedMessage,
  ): Promise<void> {
    const backend = result.upstream ?? 'none';
    if (result.outcome !== 'failed') {
      this.metrics.recordUpstream(
        backend,
        job.model,
        result.ttftMs === null ? null : result.ttftMs / 1000,
        result.latencyMs / 1000,
        result.outcome,
      );
    }
    this.metrics.tokens(job.model, result.promptTokens, result.completionTokens);
    const closed = await this.records.close(
      this.closingRecord(ctx, messageId, job, how, result, null),
    );
    if (!closed) {
      this.log.warn({ messageId }, 'the message was closed by the reconciler before its answer');
    }
  }

  private closingRecord(
    ctx: CompletionContext,
    messageId: string,
    job: CompletionJob,
    how: How,
    result: FinishedMessage,
    pending: CompletionRecord['pending'],
  ): CompletionRecord {
    const counted =
      result.outcome !== 'failed' &&
      (result.outcome !== 'upstream_error' || !!result.completionTokens);
    const usage = {
      model: job.model,
      resolved: this.pool.resolve(job.model),
      promptTokens: result.promptTokens ?? 0,
      completionTokens: result.completionTokens ?? 0,
    };
    this.policy.recordRequest(ctx.principal, {
      ...usage,
      outcome: result.outcome,
      cacheHit: result.cacheHit,
      latencyMs: result.latencyMs,
      ttftMs: result.ttftMs,
      billable: counted,
    });
    return {
      messageId,
      pending,
      result,
      increments: counted ? incrementsOf(this.policy.usageIncrements(ctx.principal, usage)) : [],
      audit: {
        actor: principalActor(ctx.principal),
        action: 'chat.completion',
        target: { type: 'message', id: messageId },
        outcome: AUDIT_OUTCOME[result.outcome],
        meta: ctx.meta,
        payload: completionAuditPayload(
          this.runtimePolicies.get().auditContent,
          job,
          how,
          result,
          ctx.conversationId,
        ),
      },
      occurredAt: new Date().toISOString(),
    };
  }
}

/**
 * The `chat.completion` payload at the content level set by policy (docs/audit-events.md):
 * `none` keeps ids, model, outcome, token counts and timings; `metadata` adds what is derived
 * from the content without saying it (finish reason, counts, sizes); `full` adds the prompt
 * messages and the answer text.
 */
export function completionAuditPayload(
  level: RuntimePolicies['auditContent'],
  job: CompletionJob,
  how: How,
  result: FinishedMessage,
  conversationId: string | null,
): Record<string, unknown> {
  const others = how.others ?? [];
  const payload: Record<string, unknown> = {
    content: level,
    endpoint: job.endpoint,
    model: job.model,
    upstream: result.upstream,
    stream: how.stream,
    cache: how.cache,
    outcome: result.outcome,
    promptTokens: result.promptTokens,
    completionTokens: result.completionTokens,
    latencyMs: result.latencyMs,
    ttftMs: result.ttftMs,
    conversationId,
    errorCode: how.errorCode ?? null,
  };
  if (others.length) payload.choices = others.length + 1;
  if (level === 'none') return payload;
  payload.finishReason = result.finishReason;
  payload.promptMessages = job.prompt.length;
  payload.promptChars = job.prompt.reduce((n, m) => n + contentText(m.content).length, 0);
  payload.answerChars = result.content.length;
  payload.toolCalls = result.toolCalls?.length ?? 0;
  if (level === 'metadata') return payload;
  payload.prompt = job.prompt.map((m) => ({ role: m.role, content: contentText(m.content) }));
  payload.answer = result.content;
  if (result.toolCalls?.length) payload.answerToolCalls = result.toolCalls;
  if (others.length) payload.otherChoices = others;
  return payload;
}

/** A message's text: a string as is, content parts joined (non-text parts by their type). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: { type?: string; text?: string }) =>
      part?.type === 'text' && typeof part.text === 'string' ? part.text : `[${part?.type}]`,
    )
    .join('\n');
}

function emptyResult(started: number): Omit<FinishedMessage, 'outcome' | 'cacheHit'> {
  return {
    upstream: null,
    content: '',
    toolCalls: null,
    finishReason: null,
    promptTokens: null,
    completionTokens: null,
    latencyMs: Math.round(performance.now() - started),
    ttftMs: null,
  };
}

/**
 * Errors from the pool are ApiErrors already; anything else is a bug inside Enclave: logged, and
 * answered 500 with no internal text, never blamed on the model server.
 */
function asApiError(err: unknown, log: Logger): ApiError {
  if (err instanceof ApiError) return err;
  log.error({ err }, 'completion failed inside Enclave');
  return localError(err, false);
}

/**
 * The request as the upstream gets it: every field the client sent (unknown ones included), but
 * `stream_options`, which Enclave sets itself when streaming (it always asks for usage).
 */
function toUpstream<B extends { stream_options?: unknown }>(body: B): B {
  const { stream_options: _ignored, ...rest } = body;
  return rest as B;
}

/** What the cache key is made from: the upstream request, and what else the answer depends on. */
function keyed(
  request: ChatCompletionCreateParams,
  also: Record<string, unknown> | undefined,
): ChatCompletionCreateParams {
  return also ? { ...request, ...also } : request;
}
