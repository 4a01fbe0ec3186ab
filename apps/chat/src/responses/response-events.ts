import type { ApiError } from '@enclave/http';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { ReplySse, SseSink } from '../completions/sse.js';
import {
  finishedResponse,
  functionCallItem,
  messageItem,
  newId,
  relayedResponse,
  type ResponseFrame,
  responseShell,
} from './response-object.js';

// A streamed response as Responses API events. The completion pipeline streams chat completion
// chunks into the sink below; a chunk that stands for an event of a backend serving the Responses
// API itself is relayed as that event (see `eventsAsChunks`), any other is translated.

/** The backend's own event behind a chunk made by `eventsAsChunks`. */
const RELAYED = new WeakMap<ChatCompletionChunk, ResponseStreamEvent>();

/** Events without their sequence number: the sink numbers what it sends. */
type Event = ResponseStreamEvent extends infer E
  ? E extends { sequence_number: number }
    ? Omit<E, 'sequence_number'>
    : never
  : never;

/**
 * A Responses API event stream as chat completion chunks, one per event, for the completion
 * pipeline to store, count and audit like any answer: text deltas as content, function calls as
 * tool calls, the final response's status and usage as the last chunk. Each chunk remembers its
 * event, which the sink relays as is.
 */
export async function* eventsAsChunks(
  events: AsyncIterable<ResponseStreamEvent>,
): AsyncIterable<ChatCompletionChunk> {
  const callIndex = new Map<string, number>();
  for await (const event of events) {
    const chunk: ChatCompletionChunk = {
      id: '',
      object: 'chat.completion.chunk',
      created: 0,
      model: '',
      choices: [],
    };
    if (event.type === 'response.output_text.delta') {
      chunk.choices = [{ index: 0, delta: { content: event.delta }, finish_reason: null }];
    } else if (event.type === 'response.output_item.added' && event.item.type === 'function_call') {
      const index = callIndex.size;
      callIndex.set(event.item.id ?? event.item.call_id, index);
      chunk.choices = [
        {
          index: 0,
          delta: {
            tool_calls: [
              {
                index,
                id: event.item.call_id,
                type: 'function',
                function: { name: event.item.name, arguments: event.item.arguments ?? '' },
              },
            ],
          },
          finish_reason: null,
        },
      ];
    } else if (event.type === 'response.function_call_arguments.delta') {
      const index = callIndex.get(event.item_id) ?? 0;
      chunk.choices = [
        {
          index: 0,
          delta: { tool_calls: [{ index, function: { arguments: event.delta } }] },
          finish_reason: null,
        },
      ];
    } else if (event.type === 'response.completed' || event.type === 'response.incomplete') {
      const { response } = event;
      const reason = response.incomplete_details?.reason;
      chunk.choices = [
        {
          index: 0,
          delta: {},
          finish_reason:
            callIndex.size > 0
              ? 'tool_calls'
              : reason === 'max_output_tokens'
                ? 'length'
                : reason === 'content_filter'
                  ? 'content_filter'
                  : 'stop',
        },
      ];
      if (response.usage) {
        chunk.usage = {
          prompt_tokens: response.usage.input_tokens,
          completion_tokens: response.usage.output_tokens,
          total_tokens: response.usage.total_tokens,
        };
      }
    }
    RELAYED.set(chunk, event);
    yield chunk;
  }
}

interface OpenCall {
  itemId: string;
  outputIndex: number;
  id: string;
  name: string;
  arguments: string;
  closed: boolean;
}

/**
 * Writes a streamed response as Responses API events: `response.created` and
 * `response.in_progress` at the start, the output items as they grow (text deltas, function call
 * arguments), and — once the caller stored the answer — `response.completed` (or
 * `response.incomplete`) with the whole response and its usage.
 */
export class ResponseEventSink implements SseSink {
  /** The pipeline finished the answer (its record is committed); `complete()` may follow. */
  finished = false;
  private sequence = 0;
  private nextOutput = 0;
  // Translated answers: the message item (opened at the first text) and the function calls.
  private readonly messageId = newId('msg');
  private message: { outputIndex: number; open: boolean } | null = null;
  private text = '';
  private readonly calls: OpenCall[] = [];
  private finishReason: string | null = null;
  private promptTokens: number | null = null;
  private completionTokens: number | null = null;
  // Relayed answers: the backend's final response, held back until the caller stored it.
  private relayedFinal: Response | null = null;
  private relaying = false;

  constructor(
    private readonly out: ReplySse,
    private readonly frame: ResponseFrame,
  ) {}

  start(headers?: Record<string, string>): void {
    this.out.start(headers);
    const response = responseShell(this.frame);
    void this.emit({ type: 'response.created', response });
    void this.emit({ type: 'response.in_progress', response });
  }

  async send(chunk: ChatCompletionChunk): Promise<void> {
    const event = RELAYED.get(chunk);
    if (event) return this.relay(event);
    if (chunk.usage) {
      this.promptTokens = chunk.usage.prompt_tokens;
      this.completionTokens = chunk.usage.completion_tokens;
    }
    const choice = chunk.choices[0];
    if (!choice) return;
    if (choice.delta?.content) await this.addText(choice.delta.content);
    for (const call of choice.delta?.tool_calls ?? []) {
      let open = this.calls[call.index];
      if (!open) {
        await this.closeMessage();
        await this.closeCall(this.calls[this.calls.length - 1]);
        open = this.calls[call.index] = {
          itemId: newId('fc'),
          outputIndex: this.nextOutput++,
          id: call.id ?? '',
          name: call.function?.name ?? '',
          arguments: '',
          closed: false,
        };
        await this.emit({
          type: 'response.output_item.added',
          output_index: open.outputIndex,
          item: functionCallItem(open.itemId, { ...open, arguments: '' }, 'in_progress'),
        });
      } else {
        if (call.id) open.id = call.id;
        if (call.function?.name) open.name += call.function.name;
      }
      const delta = call.function?.arguments;
      if (delta) {
        open.arguments += delta;
        await this.emit({
          type: 'response.function_call_arguments.delta',
          item_id: open.itemId,
          output_index: open.outputIndex,
          delta,
        });
      }
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
  }

  done(): void {
    this.finished = true;
  }

  /** An error after the stream started: an `error` event (the SDKs raise it), then the end. */
  fail(error: ApiError): void {
    void this.emit({
      type: 'error',
      code: error.code,
      message: error.message,
      param: error.param,
      // The OpenAI SDKs raise an event carrying `error` as an APIError with these details.
      error: error.toBody().error,
    } as unknown as Event);
    this.out.close();
  }

  /** The whole response as stored and as `response.completed` carries it. */
  response(): Response {
    if (this.relaying && this.relayedFinal) return relayedResponse(this.frame, this.relayedFinal);
    return finishedResponse(
      this.frame,
      {
        content: this.text,
        toolCalls: this.calls.filter(Boolean),
        finishReason: this.finishReason,
        promptTokens: this.promptTokens,
        completionTokens: this.completionTokens,
      },
      { message: this.messageId, calls: this.calls.filter(Boolean).map((c) => c.itemId) },
    );
  }

  /** Closes the open output items and ends the stream with the final response. */
  async complete(response: Response): Promise<void> {
    if (!this.relaying) {
      if (this.calls.length === 0 && !this.message) await this.addText('');
      await this.closeMessage();
      await this.closeCall(this.calls[this.calls.length - 1]);
    }
    await this.emit({
      type: response.status === 'incomplete' ? 'response.incomplete' : 'response.completed',
      response,
    } as Event);
    this.out.close();
  }

  private async relay(event: ResponseStreamEvent): Promise<void> {
    this.relaying = true;
    switch (event.type) {
      case 'response.created':
      case 'response.in_progress':
        return; // sent at the start, under Enclave's id
      case 'response.completed':
      case 'response.incomplete':
        this.relayedFinal = event.response;
        return; // sent by complete(), once stored
      default: {
        const { sequence_number: _theirs, ...rest } = event;
        await this.emit(rest as Event);
      }
    }
  }

  private async addText(delta: string): Promise<void> {
    if (!this.message) {
      this.message = { outputIndex: this.nextOutput++, open: true };
      const item = messageItem(this.messageId, '', 'in_progress');
      await this.emit({
        type: 'response.output_item.added',
        output_index: this.message.outputIndex,
        item: { ...item, content: [] },
      });
      await this.emit({
        type: 'response.content_part.added',
        item_id: this.messageId,
        output_index: this.message.outputIndex,
        content_index: 0,
        part: item.content[0]!,
      });
    }
    this.text += delta;
    if (!delta) return;
    await this.emit({
      type: 'response.output_text.delta',
      item_id: this.messageId,
      output_index: this.message.outputIndex,
      content_index: 0,
      delta,
      logprobs: [],
    });
  }

  private async closeMessage(): Promise<void> {
    if (!this.message?.open) return;
    this.message.open = false;
    const { outputIndex } = this.message;
    const item = messageItem(this.messageId, this.text, 'completed');
    await this.emit({
      type: 'response.output_text.done',
      item_id: this.messageId,
      output_index: outputIndex,
      content_index: 0,
      text: this.text,
      logprobs: [],
    });
    await this.emit({
      type: 'response.content_part.done',
      item_id: this.messageId,
      output_index: outputIndex,
      content_index: 0,
      part: item.content[0]!,
    });
    await this.emit({ type: 'response.output_item.done', output_index: outputIndex, item });
  }

  private async closeCall(call: OpenCall | undefined): Promise<void> {
    if (!call || call.closed) return;
    call.closed = true;
    await this.emit({
      type: 'response.function_call_arguments.done',
      item_id: call.itemId,
      output_index: call.outputIndex,
      name: call.name,
      arguments: call.arguments,
    });
    await this.emit({
      type: 'response.output_item.done',
      output_index: call.outputIndex,
      item: functionCallItem(call.itemId, call, 'completed'),
    });
  }

  private emit(event: Event): Promise<void> {
    return this.out.send({ ...event, sequence_number: this.sequence++ }, event.type);
  }
}
