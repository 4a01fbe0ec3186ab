import { jest } from '@jest/globals';
import OpenAI, { type APIError, type RateLimitError } from 'openai';
import type {
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { Socket } from 'node:net';
import { createLlmSim, type LlmSim, type LlmSimOptions } from '../src/simulator.js';
import { realmFetch } from '../../../test/support/openai.js';

const BASE: LlmSimOptions = {
  models: ['sim-a', 'sim-b'],
  ttftMs: 0,
  tokensPerSec: 0,
  replyTokens: 12,
  errorRate: 0,
  errorStatus: 500,
  stallRate: 0,
  stallMs: 0,
  dropRate: 0,
  dropAfterTokens: 4,
};

const running: LlmSim[] = [];

/** An error from any realm (a dropped stream surfaces as undici's TypeError from Node's realm). */
function isError(err: unknown): boolean {
  return Object.prototype.toString.call(err) === '[object Error]';
}

afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(over: Partial<LlmSimOptions> = {}, timeout = 5_000) {
  const sim = createLlmSim({ ...BASE, ...over });
  running.push(sim);
  /** Server-side sockets, with whether each has closed. */
  const sockets: { closed: boolean }[] = [];
  sim.server.on('connection', (socket: Socket) => {
    const entry = { closed: false };
    sockets.push(entry);
    socket.once('close', () => (entry.closed = true));
  });
  const port = await sim.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${port}`;
  const client = new OpenAI({
    baseURL: `${base}/v1`,
    apiKey: 'x',
    maxRetries: 0,
    timeout,
    fetch: realmFetch,
  });
  return { sim, base, client, sockets };
}

const PROMPT: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hello there, how are you?' },
];
/** 3 + 5 words, plus 3 per message. */
const PROMPT_TOKENS = 14;

function words(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

async function plainReply(client: OpenAI, messages = PROMPT, model = 'sim-a'): Promise<string> {
  const r = await client.chat.completions.create({ model, messages });
  return r.choices[0].message.content ?? '';
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('GET /v1/models', () => {
  it('lists the configured models', async () => {
    const { client } = await start();
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual(['sim-a', 'sim-b']);
    for (const m of page.data) {
      expect(m).toMatchObject({ object: 'model', owned_by: 'llm-sim' });
      expect(typeof m.created).toBe('number');
    }
    expect((await client.models.retrieve('sim-b')).id).toBe('sim-b');
  });
});

describe('non-streamed chat completions', () => {
  it('answers deterministically from the prompt, with usage per the counting rule', async () => {
    const { client } = await start();
    const r = await client.chat.completions.create({ model: 'sim-a', messages: PROMPT });
    const text = r.choices[0].message.content ?? '';
    expect(r.object).toBe('chat.completion');
    expect(r.model).toBe('sim-a');
    expect(r.choices[0].message.role).toBe('assistant');
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(text).toMatch(/^[a-z]+( [a-z]+)*$/);
    expect(words(text)).toBe(12);
    expect(r.usage).toEqual({
      prompt_tokens: PROMPT_TOKENS,
      completion_tokens: 12,
      total_tokens: PROMPT_TOKENS + 12,
    });

    expect(await plainReply(client)).toBe(text);
    const other = await plainReply(client, [{ role: 'user', content: 'Something else entirely' }]);
    expect(other).not.toBe(text);
    expect(await plainReply(client, PROMPT, 'sim-b')).not.toBe(text);
  });

  it('counts the text parts of array contents', async () => {
    const { client } = await start();
    const r = await client.chat.completions.create({
      model: 'sim-a',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'one two' },
            { type: 'text', text: 'three' },
          ],
        },
        { role: 'assistant', content: 'four' },
        { role: 'user', content: 'five six\nseven' },
      ],
    });
    expect(r.usage?.prompt_tokens).toBe(7 + 3 * 3);
  });

  it('caps the reply at max_tokens with finish_reason length', async () => {
    const { client } = await start();
    const full = await plainReply(client);
    for (const cap of [{ max_tokens: 5 }, { max_completion_tokens: 5 }]) {
      const r = await client.chat.completions.create({ model: 'sim-a', messages: PROMPT, ...cap });
      const text = r.choices[0].message.content ?? '';
      expect(r.choices[0].finish_reason).toBe('length');
      expect(words(text)).toBe(5);
      expect(full.startsWith(text)).toBe(true);
      expect(r.usage?.completion_tokens).toBe(5);
    }
    // A cap above the reply length changes nothing.
    const r = await client.chat.completions.create({
      model: 'sim-a',
      messages: PROMPT,
      max_tokens: 100,
    });
    expect(r.choices[0].message.content).toBe(full);
    expect(r.choices[0].finish_reason).toBe('stop');
  });

  it('cuts the reply before the first stop sequence', async () => {
    const { client } = await start();
    const full = await plainReply(client);
    const stop = ' ' + full.split(' ')[4];
    const expected = full.slice(0, full.indexOf(stop));
    expect(expected.length).toBeLessThan(full.length);
    for (const s of [stop, ['zzz-not-there', stop]]) {
      const r = await client.chat.completions.create({ model: 'sim-a', messages: PROMPT, stop: s });
      const text = r.choices[0].message.content ?? '';
      expect(text).toBe(expected);
      expect(text).not.toContain(stop);
      expect(r.choices[0].finish_reason).toBe('stop');
      expect(r.usage?.completion_tokens).toBe(words(text));
    }
  });
});

describe('streamed chat completions', () => {
  it('streams the same reply as the non-streamed answer, then usage and [DONE]', async () => {
    const { client } = await start();
    const full = await client.chat.completions.create({ model: 'sim-a', messages: PROMPT });
    const { data: stream, response } = await client.chat.completions
      .create({
        model: 'sim-a',
        messages: PROMPT,
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-cache');

    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);

    const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
    expect(contentChunks).toHaveLength(12);
    const text = contentChunks.map((c) => c.choices[0].delta.content).join('');
    expect(text).toBe(full.choices[0].message.content);

    const finishes = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finishes).toHaveLength(1);
    expect(finishes[0].choices[0].finish_reason).toBe('stop');

    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(full.usage);
  });

  it('sends no usage chunk unless asked, and honours max_tokens', async () => {
    const { client } = await start();
    const stream = await client.chat.completions.create({
      model: 'sim-a',
      messages: PROMPT,
      stream: true,
      max_tokens: 3,
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect(chunks.filter((c) => c.choices[0].delta.content)).toHaveLength(3);
    expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe('length');
  });

  it('streams long unthrottled replies completely', async () => {
    const { client } = await start({ replyTokens: 5_000 });
    const stream = await client.chat.completions.create({
      model: 'sim-a',
      messages: PROMPT,
      stream: true,
      stream_options: { include_usage: true },
    });
    let pieces = 0;
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const c = chunk.choices[0]?.delta.content;
      if (c) {
        pieces++;
        text += c;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(pieces).toBe(5_000);
    expect(words(text)).toBe(5_000);
    expect(usage?.completion_tokens).toBe(5_000);
    expect(text).toBe(await plainReply(client));
  });
});

const TOOLS: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string' },
          days: { type: 'integer' },
          metric: { type: 'boolean' },
          extra: { type: 'object' },
          note: { type: 'string' },
        },
        required: ['city', 'days', 'metric', 'extra'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_time',
      parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] },
    },
  },
];
const TOOL_PROMPT: ChatCompletionMessageParam[] = [
  { role: 'user', content: 'What is the weather in Paris' },
];

describe('tool calls', () => {
  it('calls the first tool with its required arguments, and answers the tool result in text', async () => {
    const { client } = await start();
    const r = await client.chat.completions.create({
      model: 'sim-a',
      messages: TOOL_PROMPT,
      tools: TOOLS,
    });
    const choice = r.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0];
    if (call.type !== 'function') throw new Error('expected a function call');
    expect(call.id).toMatch(/^call_[0-9a-f]+$/);
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({
      city: 'What is the weather in Paris',
      days: 1,
      metric: true,
      extra: null,
    });

    const withResult = (result: string): ChatCompletionMessageParam[] => [
      ...TOOL_PROMPT,
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: result },
    ];
    const answer = await client.chat.completions.create({
      model: 'sim-a',
      messages: withResult('{"temp":21}'),
      tools: TOOLS,
    });
    expect(answer.choices[0].finish_reason).toBe('stop');
    expect(answer.choices[0].message.tool_calls ?? []).toHaveLength(0);
    const text = answer.choices[0].message.content ?? '';
    expect(words(text)).toBe(12);
    expect(await plainReply(client, withResult('{"temp":21}'))).toBe(text);
    expect(await plainReply(client, withResult('{"temp":5}'))).not.toBe(text);
  });

  it('honours tool_choice: a named function, or none', async () => {
    const { client } = await start();
    const named = await client.chat.completions.create({
      model: 'sim-a',
      messages: TOOL_PROMPT,
      tools: TOOLS,
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    const call = named.choices[0].message.tool_calls![0];
    if (call.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_time');
    expect(JSON.parse(call.function.arguments)).toEqual({ zone: 'What is the weather in Paris' });

    const none = await client.chat.completions.create({
      model: 'sim-a',
      messages: TOOL_PROMPT,
      tools: TOOLS,
      tool_choice: 'none',
    });
    expect(none.choices[0].finish_reason).toBe('stop');
    expect(none.choices[0].message.tool_calls ?? []).toHaveLength(0);
    expect(words(none.choices[0].message.content ?? '')).toBe(12);
  });

  it('streams a tool call that accumulates to the non-streamed call', async () => {
    const { client } = await start();
    const plain = await client.chat.completions.create({
      model: 'sim-a',
      messages: TOOL_PROMPT,
      tools: TOOLS,
    });
    const expected = plain.choices[0].message.tool_calls![0];
    if (expected.type !== 'function') throw new Error('expected a function call');

    const stream = await client.chat.completions.create({
      model: 'sim-a',
      messages: TOOL_PROMPT,
      tools: TOOLS,
      stream: true,
    });
    let id = '';
    let name = '';
    let args = '';
    let finish: string | null = null;
    let argChunks = 0;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      for (const d of choice.delta.tool_calls ?? []) {
        expect(d.index).toBe(0);
        id += d.id ?? '';
        name += d.function?.name ?? '';
        if (d.function?.arguments) argChunks++;
        args += d.function?.arguments ?? '';
      }
      expect(choice.delta.content ?? null).toBeNull();
      finish = choice.finish_reason ?? finish;
    }
    expect({ id, name, args }).toEqual({
      id: expected.id,
      name: expected.function.name,
      args: expected.function.arguments,
    });
    expect(argChunks).toBeGreaterThan(1);
    expect(finish).toBe('tool_calls');

    // The SDK's own accumulator agrees.
    const final = await client.chat.completions
      .stream({ model: 'sim-a', messages: TOOL_PROMPT, tools: TOOLS })
      .finalChatCompletion();
    expect(final.choices[0].message.tool_calls).toEqual([
      expect.objectContaining({ id: expected.id, type: 'function', function: expected.function }),
    ]);
  });
});

describe('response_format', () => {
  it('json_object wraps the reply in a JSON object, streamed or not', async () => {
    const { client } = await start();
    const plain = await plainReply(client);
    const r = await client.chat.completions.create({
      model: 'sim-a',
      messages: PROMPT,
      response_format: { type: 'json_object' },
    });
    expect(JSON.parse(r.choices[0].message.content ?? '')).toEqual({ reply: plain });
    expect(r.usage?.completion_tokens).toBe(12);

    const stream = await client.chat.completions.create({
      model: 'sim-a',
      messages: PROMPT,
      response_format: { type: 'json_object' },
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(JSON.parse(text)).toEqual({ reply: plain });
  });

  it('json_schema fills the required properties', async () => {
    const { client } = await start();
    const plain = await plainReply(client);
    const r = await client.chat.completions.create({
      model: 'sim-a',
      messages: PROMPT,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'answer',
          schema: {
            type: 'object',
            properties: { answer: { type: 'string' }, score: { type: 'number' } },
            required: ['answer', 'score'],
          },
        },
      },
    });
    expect(JSON.parse(r.choices[0].message.content ?? '')).toEqual({ answer: plain, score: 1 });
  });
});

describe('POST /v1/embeddings', () => {
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

  it('returns deterministic unit vectors through the SDK (base64) and as floats', async () => {
    const { client, base } = await start();
    const input = ['alpha beta', 'gamma'];
    const viaSdk = await client.embeddings.create({ model: 'emb', input });
    expect(viaSdk.object).toBe('list');
    expect(viaSdk.model).toBe('emb');
    expect(viaSdk.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(viaSdk.data.map((d) => d.index)).toEqual([0, 1]);
    for (const d of viaSdk.data) {
      expect(Array.isArray(d.embedding)).toBe(true);
      expect(d.embedding).toHaveLength(16);
      expect(norm(d.embedding)).toBeCloseTo(1, 5);
    }
    expect(viaSdk.data[0].embedding).not.toEqual(viaSdk.data[1].embedding);

    const floats = await client.embeddings.create({
      model: 'emb',
      input,
      encoding_format: 'float',
    });
    expect(floats.data.map((d) => d.embedding)).toEqual(viaSdk.data.map((d) => d.embedding));

    // The raw base64 answer is little-endian float32.
    const raw = await fetch(`${base}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'emb', input: 'gamma', encoding_format: 'base64' }),
    });
    const rawBody = (await raw.json()) as { data: { embedding: unknown }[] };
    expect(typeof rawBody.data[0].embedding).toBe('string');
    const bytes = Buffer.from(rawBody.data[0].embedding as string, 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(decoded).toEqual(viaSdk.data[1].embedding);

    const single = await client.embeddings.create({ model: 'emb', input: 'alpha beta' });
    expect(single.data[0].embedding).toEqual(viaSdk.data[0].embedding);
  });

  it('honours dimensions and accepts token arrays', async () => {
    const { client } = await start();
    const r = await client.embeddings.create({ model: 'emb', input: 'hello', dimensions: 64 });
    expect(r.data[0].embedding).toHaveLength(64);
    expect(norm(r.data[0].embedding)).toBeCloseTo(1, 5);

    const tokens = await client.embeddings.create({ model: 'emb', input: [[1, 2, 3], [4]] });
    expect(tokens.data).toHaveLength(2);
    expect(tokens.usage.prompt_tokens).toBe(4);

    const err = await caught(
      client.embeddings.create({ model: 'emb', input: 'hello', dimensions: 0 }),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe('injected faults', () => {
  it('errorRate 1 with status 500 gives InternalServerError', async () => {
    const { client } = await start({ errorRate: 1, errorStatus: 500 });
    const err = await caught(plainReply(client));
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as APIError).status).toBe(500);
    expect((err as APIError).error).toMatchObject({
      message: 'llm-sim: injected fault',
      type: 'server_error',
      code: 'injected_fault',
    });
    // Models are never faulted.
    expect((await client.models.list()).data).toHaveLength(2);
  });

  it('errorStatus 503 gives an APIError with status 503, for embeddings too', async () => {
    const { client } = await start({ errorRate: 1, errorStatus: 503 });
    const err = await caught(plainReply(client));
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as APIError).status).toBe(503);
    const embErr = await caught(client.embeddings.create({ model: 'emb', input: 'x' }));
    expect((embErr as APIError).status).toBe(503);
  });

  it('errorStatus 429 gives RateLimitError with retry-after', async () => {
    const { client } = await start({ errorRate: 1, errorStatus: 429 });
    const err = await caught(plainReply(client));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as RateLimitError;
    expect(e.headers?.get('retry-after')).toBe('1');
    expect(e.error).toMatchObject({ type: 'rate_limit_error', code: 'injected_fault' });
  });

  it('a stall with stallMs 0 never answers, so the client times out', async () => {
    const { client, sockets } = await start({ stallRate: 1, stallMs: 0 }, 300);
    const t0 = performance.now();
    const err = await caught(plainReply(client));
    expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    // The server saw the client go away.
    await waitFor(() => sockets[0].closed);
  });

  it('a long stall clears its timer when the client goes away', async () => {
    const { client, sockets } = await start({ stallRate: 1, stallMs: 60_000 }, 300);
    const timers = watchTimers();
    const err = await caught(plainReply(client));
    expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    await waitFor(() => sockets[0].closed);
    const stall = timers.created((ms) => ms === 60_000);
    expect(stall).toHaveLength(1);
    expect(timers.cleared()).toContain(stall[0]);
  });

  it('a stall with stallMs 200 answers late but normally', async () => {
    const { client } = await start({ stallRate: 1, stallMs: 200 });
    const t0 = performance.now();
    const text = await plainReply(client);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
    expect(words(text)).toBe(12);
  });

  it('close() ends stalled responses', async () => {
    const { client, sim, sockets } = await start({ stallRate: 1, stallMs: 0 }, 10_000);
    const pending = caught(plainReply(client));
    await waitFor(() => sockets.length === 1);
    await sim.close();
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it('dropRate 1 cuts a stream after dropAfterTokens pieces', async () => {
    const { client: reference } = await start();
    const full = await plainReply(reference);
    for (const tokensPerSec of [0, 200]) {
      const { client } = await start({ dropRate: 1, dropAfterTokens: 3, tokensPerSec });
      const stream = await client.chat.completions.create({
        model: 'sim-a',
        messages: PROMPT,
        stream: true,
      });
      const pieces: string[] = [];
      let finished = false;
      const err = await caught(
        (async () => {
          for await (const chunk of stream) {
            const c = chunk.choices[0]?.delta.content;
            if (c) pieces.push(c);
            if (chunk.choices[0]?.finish_reason) finished = true;
          }
        })(),
      );
      expect(isError(err)).toBe(true);
      expect(pieces).toHaveLength(3);
      expect(pieces.join('')).toBe(full.split(' ').slice(0, 3).join(' '));
      expect(finished).toBe(false);
    }
  });

  it('dropRate 1 on a non-streamed request closes the connection without an answer', async () => {
    const { client } = await start({ dropRate: 1 });
    expect(await caught(plainReply(client))).toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it('dropRate 0.5 drops some requests and answers others', async () => {
    const { client } = await start({ dropRate: 0.5 });
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => plainReply(client)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r) => r.status === 'rejected');
    expect(ok.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect(f.reason).toBeInstanceOf(OpenAI.APIConnectionError);
    for (const r of ok) expect(words(r.value)).toBe(12);
  });
});

describe('timing', () => {
  it('waits ttftMs before the first chunk', async () => {
    const { client } = await start({ ttftMs: 200 });
    const t0 = performance.now();
    const stream = await client.chat.completions.create({
      model: 'sim-a',
      messages: PROMPT,
      stream: true,
    });
    let firstAt = 0;
    for await (const _chunk of stream) if (!firstAt) firstAt = performance.now() - t0;
    expect(firstAt).toBeGreaterThanOrEqual(150);

    const t1 = performance.now();
    await client.embeddings.create({ model: 'emb', input: 'x' });
    expect(performance.now() - t1).toBeGreaterThanOrEqual(150);
  });

  it('paces tokens at tokensPerSec, streamed and not', async () => {
    const { client } = await start({ tokensPerSec: 50, replyTokens: 11 });
    // 11 pieces: the last one is due 10/50 s = 200 ms after the first.
    const t0 = performance.now();
    const stream = await client.chat.completions.create({
      model: 'sim-a',
      messages: PROMPT,
      stream: true,
    });
    const arrivals: number[] = [];
    let text = '';
    for await (const chunk of stream) {
      const c = chunk.choices[0]?.delta.content;
      if (c) {
        arrivals.push(performance.now() - t0);
        text += c;
      }
    }
    expect(arrivals).toHaveLength(11);
    expect(arrivals[10] - arrivals[0]).toBeGreaterThanOrEqual(150);

    const t1 = performance.now();
    expect(await plainReply(client)).toBe(text);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(150);
  });

  it('stops a paced stream and its timer when the client goes away', async () => {
    // 200 ms between pieces: a timer left behind would still be pending when checked.
    const { client, sockets } = await start({ tokensPerSec: 5, replyTokens: 100 });
    const timers = watchTimers();
    const stream = await client.chat.completions.create({
      model: 'sim-a',
      messages: PROMPT,
      stream: true,
    });
    let pieces = 0;
    // Leaving the loop aborts the request (the SDK cancels the response body).
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content && ++pieces === 2) break;
    }
    expect(pieces).toBe(2);
    await waitFor(() => sockets[0].closed);
    // The simulator's pacing timers: all but the SDK's request timeout (5 s) and waitFor's (10 ms).
    const pacing = timers.created((ms) => ms !== 5_000 && ms !== 10);
    expect(pacing.length).toBeGreaterThan(0);
    expect(timers.cleared()).toContain(pacing[pacing.length - 1]);
  });
});

describe('bad requests', () => {
  async function post(base: string, path: string, body: string) {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    return { status: res.status, body: (await res.json()) as { error: Record<string, unknown> } };
  }

  function expectErrorShape(body: { error: Record<string, unknown> }) {
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(body.error.type).toBe('invalid_request_error');
    expect(typeof body.error.message).toBe('string');
  }

  it('rejects malformed JSON and missing or empty messages with 400', async () => {
    const { base } = await start();
    const malformed = await post(base, '/v1/chat/completions', '{"model": "sim-a", "messages": [');
    expect(malformed.status).toBe(400);
    expectErrorShape(malformed.body);

    const missing = await post(base, '/v1/chat/completions', '{"model":"sim-a"}');
    expect(missing.status).toBe(400);
    expectErrorShape(missing.body);
    expect(missing.body.error.param).toBe('messages');

    const empty = await post(base, '/v1/chat/completions', '{"model":"sim-a","messages":[]}');
    expect(empty.status).toBe(400);
    expect(empty.body.error.param).toBe('messages');

    const noInput = await post(base, '/v1/embeddings', '{"model":"emb"}');
    expect(noInput.status).toBe(400);
    expect(noInput.body.error.param).toBe('input');
  });

  it('answers unknown paths with 404 and rejects oversized bodies with 413', async () => {
    const { base } = await start();
    const unknown = await post(base, '/v1/nope', '{}');
    expect(unknown.status).toBe(404);
    expectErrorShape(unknown.body);

    const wrongMethod = await fetch(`${base}/v1/chat/completions`);
    expect(wrongMethod.status).toBe(404);
    expectErrorShape((await wrongMethod.json()) as { error: Record<string, unknown> });

    const big = await post(base, '/v1/chat/completions', 'x'.repeat(17 * 1024 * 1024));
    expect(big.status).toBe(413);
    expectErrorShape(big.body);
  });
});

/**
 * Records the timers set and cleared from now on in this test's realm (the simulator's included;
 * Node's own fetch runs in the outer realm and is not seen).
 */
function watchTimers() {
  const set = jest.spyOn(globalThis, 'setTimeout');
  const clear = jest.spyOn(globalThis, 'clearTimeout');
  return {
    created: (delay: (ms: number) => boolean): unknown[] =>
      set.mock.calls.flatMap((call, i) =>
        delay(Number(call[1] ?? 0)) ? [set.mock.results[i].value] : [],
      ),
    cleared: (): unknown[] => clear.mock.calls.map((call) => call[0]),
  };
}

async function waitFor(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('n choices', () => {
  it('answers n different choices, choice 0 the same as without n, usage over all', async () => {
    const { client } = await start();
    const one = await client.chat.completions.create({ model: 'sim-a', messages: PROMPT });
    const two = await client.chat.completions.create({ model: 'sim-a', messages: PROMPT, n: 2 });
    expect(two.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(two.choices[0].message.content).toBe(one.choices[0].message.content);
    expect(two.choices[1].message.content).not.toBe(two.choices[0].message.content);
    expect(two.usage!.completion_tokens).toBe(2 * one.usage!.completion_tokens);
    expect(two.usage!.prompt_tokens).toBe(PROMPT_TOKENS);
  });

  it('streams every choice, each accumulating to its non-streamed text', async () => {
    const { client } = await start();
    const plain = await client.chat.completions.create({ model: 'sim-a', messages: PROMPT, n: 3 });
    const stream = await client.chat.completions.create({
      model: 'sim-a',
      messages: PROMPT,
      n: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ['', '', ''];
    const finishes: (string | null)[] = [null, null, null];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      usage ??= chunk.usage;
      for (const c of chunk.choices) {
        texts[c.index] += c.delta.content ?? '';
        finishes[c.index] ??= c.finish_reason;
      }
    }
    expect(texts).toEqual(plain.choices.map((c) => c.message.content));
    expect(finishes).toEqual(['stop', 'stop', 'stop']);
    expect(usage).toEqual(plain.usage);
  });
});

describe('POST /v1/completions', () => {
  it('answers a prompt deterministically, n choices per prompt, with usage', async () => {
    const { client } = await start();
    const a = await client.completions.create({ model: 'sim-b', prompt: 'Say hello to Paris' });
    const b = await client.completions.create({ model: 'sim-b', prompt: 'Say hello to Paris' });
    expect(a.object).toBe('text_completion');
    expect(a.choices[0].text).toBe(b.choices[0].text);
    expect(words(a.choices[0].text)).toBe(12);
    expect(a.usage).toEqual({ prompt_tokens: 4, completion_tokens: 12, total_tokens: 16 });
    const many = await client.completions.create({
      model: 'sim-b',
      prompt: ['Say hello to Paris', 'And to Rome'],
      n: 2,
      max_tokens: 5,
    });
    expect(many.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    expect(many.choices[0].text).toBe(a.choices[0].text.split(' ').slice(0, 5).join(' '));
    expect(many.choices.every((c) => c.finish_reason === 'length')).toBe(true);
    expect(many.usage!.completion_tokens).toBe(20);
  });

  it('streams text chunks that join to the non-streamed text, then usage and [DONE]', async () => {
    const { client } = await start();
    const plain = await client.completions.create({ model: 'sim-a', prompt: 'Once upon a time' });
    const stream = await client.completions.create({
      model: 'sim-a',
      prompt: 'Once upon a time',
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      usage ??= chunk.usage;
      text += chunk.choices[0]?.text ?? '';
      finish ??= chunk.choices[0]?.finish_reason ?? null;
    }
    expect(text).toBe(plain.choices[0].text);
    expect(finish).toBe('stop');
    expect(usage).toEqual(plain.usage);
  });

  it('refuses a body without a usable prompt with 400', async () => {
    const { base } = await start();
    const res = await fetch(`${base}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-a', prompt: { text: 'no' } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('prompt');
  });
});

describe('received', () => {
  it('keeps the request bodies it parsed, unknown fields as sent', async () => {
    const { sim, client } = await start();
    await client.chat.completions.create({
      model: 'sim-a',
      messages: PROMPT,
      // @ts-expect-error vLLM's sampling parameters are not in the SDK's types
      top_k: 20,
      chat_template_kwargs: { enable_thinking: false },
    });
    expect(sim.received.at(-1)).toEqual({
      path: '/v1/chat/completions',
      body: {
        model: 'sim-a',
        messages: PROMPT,
        top_k: 20,
        chat_template_kwargs: { enable_thinking: false },
      },
    });
  });
});
