import { Injectable, Logger } from '@nestjs/common';
import { ResponsesRepository, type StoredResponse } from '@enclave/conversations';
import { ApiError } from '@enclave/http';
import { UpstreamPool } from '@enclave/llm';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { ResponseItemList } from 'openai/resources/responses/input-items';
import type { Response } from 'openai/resources/responses/responses';
import {
  type CacheState,
  ChatCompletionsService,
  type ChatCall,
  type ChatStreamCall,
  type CompletionContext,
} from '../completions/chat-completions.service.js';
import type { ChatCompletionRequest } from '../completions/chat-request.schema.js';
import type { ReplySse } from '../completions/sse.js';
import { eventsAsChunks, ResponseEventSink } from './response-events.js';
import {
  fromCompletion,
  newId,
  relayedResponse,
  type ResponseFrame,
  toCompletion,
} from './response-object.js';
import type { InputItem, InputItemsQuery, ResponsesRequest } from './responses-request.schema.js';
import { inputItems, refuseUnsupported, toChatRequest } from './to-chat.js';

/** One request, ready for the pipeline: its frame, the whole conversation, the chat equivalent. */
interface Prepared {
  frame: ResponseFrame;
  /** The conversation up to this response: earlier turns' items, then this request's. */
  items: InputItem[];
  /** When the oldest of `items` was first written (for retention, see StoredResponse). */
  contentSince: Date;
  chat: ChatCompletionRequest;
}

/**
 * `POST /v1/responses` on every backend. The request becomes the equivalent chat completion and
 * goes through the chat completion pipeline (model access, limits, cache, the stored message,
 * usage, the `chat.completion` audit event, failover); at the upstream, a backend that serves the
 * Responses API gets the request as sent, any other the chat completion. Responses are stored
 * for their owner (`store`, default true) for GET, DELETE and `previous_response_id`.
 */
@Injectable()
export class ResponsesService {
  private readonly log = new Logger('Responses');

  constructor(
    private readonly completions: ChatCompletionsService,
    private readonly pool: UpstreamPool,
    private readonly stored: ResponsesRepository,
  ) {}

  async create(
    ctx: CompletionContext,
    body: ResponsesRequest,
  ): Promise<{ response: Response; cache: CacheState; headers: Record<string, string> }> {
    const prepared = await this.prepare(ctx, body, false);
    let relayed: Response | null = null;
    const upstream: ChatCall = async (request, signal) => {
      const pass = this.passThrough(prepared, request);
      const { backend, result } = await this.pool.respond(pass, request, signal);
      if (result.api === 'chat') return { backend, result: result.completion };
      relayed = result.response;
      return { backend, result: toCompletion(result.response) };
    };
    const { completion, cache, headers } = await this.completions.complete(
      ctx,
      prepared.chat,
      upstream,
      'responses',
      cacheKeyAlso(body),
    );
    let response = relayed
      ? relayedResponse(prepared.frame, relayed)
      : fromCompletion(prepared.frame, completion);
    try {
      await this.keep(ctx, prepared, response);
    } catch (err) {
      // The answer is recorded and counted: an error now would have the SDK ask (and pay)
      // again. It goes out saying it was not stored.
      this.log.error({ err, requestId: ctx.meta.requestId }, 'a response was not stored');
      response = { ...response, store: false } as Response;
    }
    return { response, cache, headers };
  }

  /**
   * Streams the response as Responses API events to `out`. Errors before the first event are
   * thrown (the caller answers with a JSON error); after it they end the stream with an `error`
   * event. `response.completed` goes out once the response is stored.
   */
  async stream(ctx: CompletionContext, body: ResponsesRequest, out: ReplySse): Promise<void> {
    const prepared = await this.prepare(ctx, body, true);
    const sink = new ResponseEventSink(out, prepared.frame);
    const upstream: ChatStreamCall = async (request, signal) => {
      const pass = this.passThrough(prepared, request);
      const { backend, result } = await this.pool.respondStream(pass, request, signal);
      return {
        backend,
        result: result.api === 'chat' ? result.chunks : eventsAsChunks(result.events),
      };
    };
    await this.completions.stream(ctx, prepared.chat, sink, {
      upstream,
      endpoint: 'responses',
      cacheKeyAlso: cacheKeyAlso(body),
    });
    if (!sink.finished) return;
    const response = sink.response();
    try {
      await this.keep(ctx, prepared, response);
    } catch (err) {
      this.log.error({ err, requestId: ctx.meta.requestId }, 'a streamed response was not stored');
      sink.fail(
        new ApiError(
          503,
          'response_not_stored',
          'The answer was recorded but could not be stored for previous_response_id; send the request again, or with store: false.',
          { type: 'server_error' },
        ),
      );
      return;
    }
    await sink.complete(response);
  }

  /** The caller's own stored response; 404 for any other id (someone else's included). */
  async get(userId: string, id: string): Promise<Response> {
    return (await this.own(userId, id, 'id')).response as unknown as Response;
  }

  /**
   * The items a stored response was made from: the whole conversation up to it (earlier turns'
   * inputs and outputs, then the request's own), as OpenAI lists them: a message's text as
   * content parts, and an id on every item (`<response id>_input_<n>` where the client sent
   * none, stable across calls, so `after` pages through them).
   */
  async inputItems(userId: string, id: string, q: InputItemsQuery): Promise<ResponseItemList> {
    const stored = await this.own(userId, id, 'id');
    const items = (stored.input as InputItem[]).map((item, i) =>
      listedItem(item, `${id}_input_${i}`),
    );
    if (q.order !== 'asc') items.reverse();
    let start = 0;
    if (q.after !== undefined) {
      start = items.findIndex((item) => item.id === q.after) + 1;
      if (start === 0) {
        throw new ApiError(
          400,
          'invalid_cursor',
          `after names no input item of response '${id}'; pass the last_id of the page before.`,
          { param: 'after' },
        );
      }
    }
    const data = items.slice(start, start + (q.limit ?? 20));
    return {
      object: 'list',
      data: data as unknown as ResponseItemList['data'],
      first_id: data[0]?.id ?? '',
      last_id: data.at(-1)?.id ?? '',
      has_more: start + data.length < items.length,
    };
  }

  async delete(userId: string, id: string) {
    if (!(await this.stored.deleteOwn(id, userId))) throw notFound(id, 'id');
    return { id, object: 'response', deleted: true };
  }

  private async own(userId: string, id: string, param: string): Promise<StoredResponse> {
    const found = await this.stored.getOwn(id, userId);
    if (!found) throw notFound(id, param);
    return found;
  }

  private async prepare(
    ctx: CompletionContext,
    body: ResponsesRequest,
    stream: boolean,
  ): Promise<Prepared> {
    refuseUnsupported(body);
    const history: InputItem[] = [];
    let contentSince = new Date();
    if (body.previous_response_id) {
      const previous = await this.own(
        ctx.principal.userId,
        body.previous_response_id,
        'previous_response_id',
      );
      history.push(
        ...(previous.input as InputItem[]),
        ...((previous.response as unknown as Response).output as InputItem[]),
      );
      contentSince = older(contentSince, previous.contentSince);
    }
    const own = await this.resolveReferences(ctx, inputItems(body));
    contentSince = older(contentSince, own.contentSince);
    const items = [...history, ...own.items];
    return {
      frame: {
        id: newId('resp'),
        createdAt: Math.floor(Date.now() / 1000),
        request: body,
        store: body.store ?? true,
      },
      items,
      contentSince,
      chat: toChatRequest(body, items, stream),
    };
  }

  /**
   * `item_reference` items (the AI SDK sends them for output it got from a stored response) as
   * the items they name, read from the caller's own stored responses.
   */
  private async resolveReferences(
    ctx: CompletionContext,
    items: InputItem[],
  ): Promise<{ items: InputItem[]; contentSince: Date | null }> {
    const ids = items.flatMap((i) => (i.type === 'item_reference' && i.id ? [i.id] : []));
    if (ids.length === 0) return { items, contentSince: null };
    const rows = await this.stored.ownOutputItems(ctx.principal.userId, ids);
    const found = new Map(rows.map((r) => [r.item.id as string, r.item as InputItem]));
    const contentSince = rows.reduce<Date | null>((d, r) => older(d, r.contentSince), null);
    const resolved = items.map((item, i) => {
      if (item.type !== 'item_reference') return item;
      const target = item.id ? found.get(item.id) : undefined;
      if (!target) {
        throw new ApiError(
          404,
          'item_not_found',
          `input[${i}] refers to item '${item.id ?? ''}', which is in none of your stored responses; send the item itself instead.`,
          { param: `input[${i}]` },
        );
      }
      return target;
    });
    return { items: resolved, contentSince };
  }

  /**
   * The request as a backend serving the Responses API gets it: the whole conversation as input
   * (the backend does not know Enclave's stored responses), never stored there, and the
   * administrator's default system prompt as instructions when the pipeline added it.
   */
  private passThrough(prepared: Prepared, request: ChatCompletionCreateParams) {
    const {
      previous_response_id: _previous,
      store: _store,
      stream: _stream,
      stream_options: _options,
      ...rest
    } = prepared.frame.request;
    const added =
      request.messages.length > prepared.chat.messages.length &&
      request.messages[0]?.role === 'system' &&
      typeof request.messages[0].content === 'string'
        ? request.messages[0].content
        : null;
    return {
      ...rest,
      input: prepared.items,
      store: false,
      ...(added && !rest.instructions ? { instructions: added } : {}),
    };
  }

  private async keep(ctx: CompletionContext, prepared: Prepared, response: Response) {
    if (!prepared.frame.store) return;
    await this.stored.insert({
      id: response.id,
      userId: ctx.principal.userId,
      apiKeyId: ctx.principal.apiKey?.id ?? null,
      model: prepared.frame.request.model,
      previousResponseId: prepared.frame.request.previous_response_id ?? null,
      input: prepared.items,
      response: response as unknown as Record<string, unknown>,
      contentSince: prepared.contentSince,
    });
  }
}

/** An input item as the input items list shows it: typed, with an id, text as content parts. */
function listedItem(item: InputItem, fallbackId: string): InputItem & { id: string } {
  const type = item.type ?? 'message';
  const listed = { ...item, type, id: item.id ?? fallbackId };
  if (type === 'message' && typeof item.content === 'string') {
    const part = item.role === 'assistant' ? 'output_text' : 'input_text';
    listed.content = [{ type: part, text: item.content }];
  }
  return listed;
}

/** The earlier of two times; null stands for none. */
function older(a: Date, b: Date | null): Date;
function older(a: Date | null, b: Date | null): Date | null;
function older(a: Date | null, b: Date | null): Date | null {
  if (!a || !b) return a ?? b;
  return b < a ? b : a;
}

function notFound(id: string, param: string): ApiError {
  return new ApiError(
    404,
    'response_not_found',
    `No stored response of yours has the id '${id}'. Responses are stored with store: true (the default) and kept until retention or erasure removes them.`,
    { param },
  );
}

/**
 * What a Responses request asks beyond its chat translation (reasoning effort, `include`,
 * truncation, verbosity, …), for the cache key: two requests that differ there never share an
 * answer. Transport and bookkeeping fields do not change the answer.
 */
function cacheKeyAlso(body: ResponsesRequest): Record<string, unknown> {
  const { stream: _stream, store: _store, metadata: _metadata, ...asked } = body;
  return { responses: asked };
}
