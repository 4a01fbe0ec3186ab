import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { ReplySse } from '../completions/sse.js';
import { eventsAsChunks, ResponseEventSink } from './response-events.js';
import { ResponsesRequest } from './responses-request.schema.js';

// What a client of the Responses API sees of a streamed answer: chat completion chunks from a
// chat-only backend as Responses events, and a Responses backend's own events relayed.

/** Collects what the sink writes, as a client would read it. */
function fakeOut() {
  const events: { type: string; sequence_number: number; [k: string]: unknown }[] = [];
  let closed = false;
  const out = {
    start: () => undefined,
    send: (data: unknown, name?: string) => {
      const event = data as (typeof events)[number];
      expect(name).toBe(event.type);
      events.push(event);
      return Promise.resolve();
    },
    close: () => {
      closed = true;
    },
  };
  return { out: out as unknown as ReplySse, events, closed: () => closed };
}

const frame = {
  id: 'resp_1',
  createdAt: 1,
  request: ResponsesRequest.parse({ model: 'm', input: 'hi' }),
  store: true,
};

const chunk = (choice: Partial<ChatCompletionChunk.Choice> | null, usage?: object) =>
  ({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: choice ? [{ index: 0, delta: {}, finish_reason: null, ...choice }] : [],
    ...(usage ? { usage } : {}),
  }) as ChatCompletionChunk;

describe('ResponseEventSink', () => {
  it('writes text chunks as a message item growing, then the completed response with usage', async () => {
    const { out, events, closed } = fakeOut();
    const sink = new ResponseEventSink(out, frame);
    sink.start();
    await sink.send(chunk({ delta: { role: 'assistant', content: '' } }));
    await sink.send(chunk({ delta: { content: 'Hello' } }));
    await sink.send(chunk({ delta: { content: ' world' } }));
    await sink.send(chunk({ finish_reason: 'stop' }));
    await sink.send(chunk(null, { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }));
    sink.done();
    const response = sink.response();
    await sink.complete(response);

    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[0]).toMatchObject({ response: { id: 'resp_1', status: 'in_progress' } });
    expect(response).toMatchObject({
      id: 'resp_1',
      status: 'completed',
      output_text: 'Hello world',
      usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
    });
    const itemId = (events[2]!.item as { id: string }).id;
    expect(response.output).toEqual([
      expect.objectContaining({ type: 'message', id: itemId, status: 'completed' }),
    ]);
    expect(closed()).toBe(true);
  });

  it('writes tool call chunks as function_call items with argument deltas', async () => {
    const { out, events } = fakeOut();
    const sink = new ResponseEventSink(out, frame);
    sink.start();
    await sink.send(
      chunk({
        delta: {
          tool_calls: [
            { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } },
          ],
        },
      }),
    );
    await sink.send(
      chunk({ delta: { tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] } }),
    );
    await sink.send(
      chunk({ delta: { tool_calls: [{ index: 0, function: { arguments: '1}' } }] } }),
    );
    await sink.send(chunk({ finish_reason: 'tool_calls' }));
    sink.done();
    const response = sink.response();
    await sink.complete(response);

    expect(events.map((e) => e.type).slice(2)).toEqual([
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(response.output).toEqual([
      expect.objectContaining({
        type: 'function_call',
        call_id: 'call_1',
        name: 'f',
        arguments: '{"a":1}',
      }),
    ]);
  });

  it("relays a Responses backend's events under Enclave's id, the final one only on complete", async () => {
    const upstream = [
      { type: 'response.created', response: { id: 'resp_upstream' } },
      { type: 'response.output_text.delta', item_id: 'msg_u', delta: 'Hi', output_index: 0 },
      {
        type: 'response.completed',
        response: {
          id: 'resp_upstream',
          status: 'completed',
          output: [
            {
              type: 'message',
              id: 'msg_u',
              content: [{ type: 'output_text', text: 'Hi' }],
            },
          ],
          usage: { input_tokens: 3, output_tokens: 1, total_tokens: 4 },
        },
      },
    ].map((e, i) => ({ ...e, sequence_number: 100 + i })) as unknown as ResponseStreamEvent[];
    async function* source() {
      yield* upstream;
    }
    const { out, events } = fakeOut();
    const sink = new ResponseEventSink(out, frame);
    sink.start();
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of eventsAsChunks(source())) {
      chunks.push(c);
      await sink.send(c);
    }
    // What the pipeline stores and counts: the text and the usage.
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hi');
    expect(chunks.at(-1)!.usage).toEqual({
      prompt_tokens: 3,
      completion_tokens: 1,
      total_tokens: 4,
    });
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_text.delta',
    ]);
    sink.done();
    await sink.complete(sink.response());
    expect(events.at(-1)).toMatchObject({
      type: 'response.completed',
      sequence_number: 3,
      response: { id: 'resp_1', status: 'completed', usage: { output_tokens: 1 } },
    });
  });

  it.each([
    ['max_output_tokens', 'length'],
    ['content_filter', 'content_filter'],
  ])('reads an incomplete response (%s) as finish_reason %s', async (reason, finish) => {
    async function* source() {
      yield {
        type: 'response.incomplete',
        sequence_number: 1,
        response: { id: 'resp_u', status: 'incomplete', incomplete_details: { reason } },
      } as unknown as ResponseStreamEvent;
    }
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of eventsAsChunks(source())) chunks.push(c);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe(finish);
  });
});
