import { Injectable, Logger } from '@nestjs/common';
import { AuditLog, type AuditOutcome } from '@enclave/audit';
import { type Principal, principalActor } from '@enclave/auth';
import { ApiError, type RequestMeta } from '@enclave/http';
import { UpstreamClient, upstreamError } from '@enclave/llm';
import type { ChatCompletion, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import { DataSource } from 'typeorm';
import type { ChatCompletionRequest, EmbeddingsRequest } from './chat-request.schema.js';
import { type FinishedMessage, MessagesRepository } from './messages.repository.js';
import type { SseSink } from './sse.js';
import { StreamAccumulator } from './stream-accumulator.js';

export interface CompletionContext {
  principal: Principal;
  meta: RequestMeta;
  /** The chat UI's conversation the answer belongs to; null for plain API calls. */
  conversationId: string | null;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

const AUDIT_OUTCOME: Record<FinishedMessage['outcome'], AuditOutcome> = {
  completed: 'success',
  client_disconnected: 'partial',
  upstream_error: 'failure',
};

/**
 * A chat completion end to end: model access, the upstream call (relayed as it arrives when
 * streamed), and the stored assistant message plus its audit event, committed together.
 */
@Injectable()
export class ChatCompletionsService {
  private readonly log = new Logger('Completions');

  constructor(
    private readonly upstream: UpstreamClient,
    private readonly messages: MessagesRepository,
    private readonly audit: AuditLog,
    private readonly dataSource: DataSource,
  ) {}

  /** The models this caller may use. */
  async modelsFor(principal: Principal): Promise<string[]> {
    const served = await this.upstream.listModels();
    const scope = principal.apiKey?.models;
    return scope ? served.filter((m) => scope.includes(m)) : served;
  }

  async assertModelAllowed(principal: Principal, model: string): Promise<void> {
    const scope = principal.apiKey?.models;
    if (scope && !scope.includes(model)) {
      throw new ApiError(
        403,
        'model_not_allowed',
        `This API key may not use the model '${model}'; it may use: ${scope.join(', ') || 'none'}.`,
        { param: 'model' },
      );
    }
    if (!(await this.upstream.listModels()).includes(model)) {
      throw new ApiError(
        404,
        'model_not_found',
        `The model '${model}' does not exist; GET /v1/models lists the models you may use.`,
        { param: 'model' },
      );
    }
  }

  async complete(ctx: CompletionContext, body: ChatCompletionRequest): Promise<ChatCompletion> {
    await this.assertModelAllowed(ctx.principal, body.model);
    const started = performance.now();
    const messageId = await this.startMessage(ctx, body.model);
    try {
      const completion = await this.upstream.chat(toUpstream(body) as never, {
        signal: ctx.signal,
      });
      const choice = completion.choices[0];
      const latencyMs = Math.round(performance.now() - started);
      await this.finish(ctx, messageId, body, false, {
        content: choice?.message?.content ?? '',
        toolCalls: choice?.message?.tool_calls ?? null,
        outcome: 'completed',
        finishReason: choice?.finish_reason ?? null,
        promptTokens: completion.usage?.prompt_tokens ?? null,
        completionTokens: completion.usage?.completion_tokens ?? null,
        latencyMs,
        ttftMs: latencyMs,
      });
      return completion;
    } catch (err) {
      const error = err instanceof ApiError ? err : upstreamError(err, false, this.upstream.name);
      await this.finish(
        ctx,
        messageId,
        body,
        false,
        {
          ...emptyResult(started),
          outcome: ctx.signal.aborted ? 'client_disconnected' : 'upstream_error',
        },
        error.code,
      );
      throw error.markAudited();
    }
  }

  /**
   * Streams the answer to `sink` as the upstream produces it. Errors before the first byte are
   * thrown (the caller answers with a JSON error); after it, they end the stream with an error
   * event. Either way the message and audit event record what happened.
   */
  async stream(ctx: CompletionContext, body: ChatCompletionRequest, sink: SseSink): Promise<void> {
    await this.assertModelAllowed(ctx.principal, body.model);
    const started = performance.now();
    const messageId = await this.startMessage(ctx, body.model);
    const wantsUsage = body.stream_options?.include_usage === true;

    let chunks: AsyncIterable<import('openai/resources/chat/completions').ChatCompletionChunk>;
    try {
      chunks = await this.upstream.chatStream(toUpstream(body), { signal: ctx.signal });
    } catch (err) {
      const error = err instanceof ApiError ? err : upstreamError(err, false, this.upstream.name);
      await this.finish(
        ctx,
        messageId,
        body,
        true,
        {
          ...emptyResult(started),
          outcome: ctx.signal.aborted ? 'client_disconnected' : 'upstream_error',
        },
        error.code,
      );
      throw error.markAudited();
    }

    sink.start({ 'x-enclave-upstream': this.upstream.name });
    const acc = new StreamAccumulator();
    let ttftMs: number | null = null;
    let outcome: FinishedMessage['outcome'] = 'completed';
    let errorCode: string | null = null;
    try {
      for await (const chunk of chunks) {
        ttftMs ??= Math.round(performance.now() - started);
        acc.add(chunk);
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
      else sink.done();
    } catch (err) {
      if (ctx.signal.aborted) {
        outcome = 'client_disconnected';
      } else {
        outcome = 'upstream_error';
        this.log.warn({ err, upstream: this.upstream.name }, 'upstream stream broke mid-answer');
        const error = new ApiError(
          502,
          'upstream_stream_broken',
          `The model server (${this.upstream.name}) stopped in the middle of the answer; the partial answer was kept. Try again.`,
          { type: 'server_error' },
        );
        errorCode = error.code;
        sink.fail(error);
      }
    }
    await this.finish(
      ctx,
      messageId,
      body,
      true,
      {
        content: acc.content,
        toolCalls: acc.calls,
        outcome,
        finishReason: acc.finishReason,
        promptTokens: acc.promptTokens,
        completionTokens: acc.completionTokens ?? (acc.deltas || null),
        latencyMs: Math.round(performance.now() - started),
        ttftMs,
      },
      errorCode,
    );
  }

  async embeddings(
    principal: Principal,
    meta: RequestMeta,
    body: EmbeddingsRequest,
    signal: AbortSignal,
  ): Promise<CreateEmbeddingResponse> {
    await this.assertModelAllowed(principal, body.model);
    let response: CreateEmbeddingResponse | null = null;
    let error: ApiError | null = null;
    try {
      response = await this.upstream.embeddings(body as EmbeddingCreateParams, { signal });
    } catch (err) {
      error = err instanceof ApiError ? err : upstreamError(err, false, this.upstream.name);
    }
    await this.dataSource.transaction((db) =>
      this.audit.append(db, {
        actor: principalActor(principal),
        action: 'embedding.created',
        target: { type: 'model', id: body.model },
        outcome: error ? 'failure' : 'success',
        meta,
        payload: {
          model: body.model,
          upstream: this.upstream.name,
          inputs: Array.isArray(body.input) ? body.input.length : 1,
          promptTokens: response?.usage?.prompt_tokens ?? null,
          errorCode: error?.code ?? null,
        },
      }),
    );
    if (error) throw error.markAudited();
    return response!;
  }

  private startMessage(ctx: CompletionContext, model: string): Promise<string> {
    return this.messages.insertPending({
      conversationId: ctx.conversationId,
      userId: ctx.principal.userId,
      apiKeyId: ctx.principal.apiKey?.id ?? null,
      model,
      upstream: this.upstream.name,
      requestId: ctx.meta.requestId,
    });
  }

  /** The stored answer and its audit event, in one transaction. */
  private async finish(
    ctx: CompletionContext,
    messageId: string,
    body: ChatCompletionRequest,
    stream: boolean,
    result: FinishedMessage,
    errorCode: string | null = null,
  ): Promise<void> {
    await this.dataSource.transaction(async (db) => {
      await this.messages.finish(db, messageId, result);
      await this.audit.append(db, {
        actor: principalActor(ctx.principal),
        action: 'chat.completion',
        target: { type: 'message', id: messageId },
        outcome: AUDIT_OUTCOME[result.outcome],
        meta: ctx.meta,
        payload: {
          model: body.model,
          upstream: this.upstream.name,
          stream,
          outcome: result.outcome,
          finishReason: result.finishReason,
          promptTokens: result.promptTokens,
          completionTokens: result.completionTokens,
          latencyMs: result.latencyMs,
          ttftMs: result.ttftMs,
          conversationId: ctx.conversationId,
          errorCode,
        },
      });
    });
  }
}

function emptyResult(started: number): Omit<FinishedMessage, 'outcome'> {
  return {
    content: '',
    toolCalls: null,
    finishReason: null,
    promptTokens: null,
    completionTokens: null,
    latencyMs: Math.round(performance.now() - started),
    ttftMs: null,
  };
}

/** The request as the upstream gets it (Enclave adds stream_options itself when streaming). */
function toUpstream(body: ChatCompletionRequest): ChatCompletionCreateParams {
  const { stream_options: _ignored, ...rest } = body;
  return rest as ChatCompletionCreateParams;
}
