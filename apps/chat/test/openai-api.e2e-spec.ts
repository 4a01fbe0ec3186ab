import OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { ChatHarness } from '../../../test/support/chat-harness.js';
import { openaiClient } from '../../../test/support/openai.js';

// The official `openai` SDK against Enclave's /v1 API, with the bundled simulator as the
// upstream and a real Postgres underneath: what a user's tool sees, and what Enclave records.

const PROMPT: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'What is the capital of France?' },
];

const WEATHER_TOOL: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  },
};

async function expectError<T extends abstract new (...args: never[]) => Error>(
  promise: Promise<unknown>,
  type: T,
): Promise<InstanceType<T>> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    return err as InstanceType<T>;
  }
  throw new Error(`expected ${type.name}`);
}

/** Resolves once the completion's message is no longer in progress (finishing is async). */
async function settledMessages(h: ChatHarness, userId: string, expected: number) {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const rows = await h.dataSource.query(
      `SELECT content, outcome, tool_calls AS "toolCalls", prompt_tokens AS "promptTokens",
              completion_tokens AS "completionTokens", upstream, model, ttft_ms AS "ttftMs"
         FROM messages WHERE user_id = $1 AND role = 'assistant' ORDER BY created_at`,
      [userId],
    );
    const settled = rows.filter((r: { outcome: string }) => r.outcome !== 'in_progress');
    if (settled.length >= expected || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function auditEvents(h: ChatHarness, userId: string | null, action: string) {
  return h.dataSource.query(
    `SELECT action, outcome, payload, actor_type AS "actorType", request_id AS "requestId"
       FROM audit_events WHERE action = $1 AND actor_id IS NOT DISTINCT FROM $2 ORDER BY id`,
    [action, userId],
  );
}

describe('the OpenAI SDK against Enclave', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await ChatHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('lists the upstream models, and only the allowed ones for a scoped key', async () => {
    const all = await h.user('models-all@example.com');
    const scoped = await h.user('models-scoped@example.com', { models: ['enclave-sim'] });
    const ids = async (c: OpenAI) => (await c.models.list()).data.map((m) => m.id).sort();
    expect(await ids(all.client)).toEqual(['enclave-sim', 'sim-large']);
    expect(await ids(scoped.client)).toEqual(['enclave-sim']);
    expect((await all.client.models.retrieve('sim-large')).id).toBe('sim-large');
  });

  it('answers a completion with usage, stores the assistant message and one audit event', async () => {
    const u = await h.user('plain@example.com');
    const completion = await u.client.chat.completions.create({
      model: 'enclave-sim',
      messages: PROMPT,
    });
    const answer = completion.choices[0]!.message.content!;
    expect(answer.length).toBeGreaterThan(0);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(0);

    // The same request straight to the simulator gives the same (deterministic) answer.
    const direct = openaiClient(h.config.upstream.url, 'none');
    const expected = await direct.chat.completions.create({
      model: 'enclave-sim',
      messages: PROMPT,
    });
    expect(answer).toBe(expected.choices[0]!.message.content);

    const [stored] = await settledMessages(h, u.userId, 1);
    expect(stored).toMatchObject({
      content: answer,
      outcome: 'completed',
      promptTokens: completion.usage!.prompt_tokens,
      completionTokens: completion.usage!.completion_tokens,
      upstream: expect.any(String),
      model: 'enclave-sim',
    });
    const events = await auditEvents(h, u.userId, 'chat.completion');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'success', actorType: 'api_key' });
    expect(events[0].payload).toMatchObject({
      model: 'enclave-sim',
      stream: false,
      outcome: 'completed',
    });
  });

  it('streams a completion as it arrives, with usage when asked, and stores the same text', async () => {
    const u = await h.user('stream@example.com');
    const stream = await u.client.chat.completions.create({
      model: 'enclave-sim',
      messages: PROMPT,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    const usage = chunks.find((c) => c.usage)?.usage;
    expect(chunks.length).toBeGreaterThan(3);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);

    const plain = await u.client.chat.completions.create({
      model: 'enclave-sim',
      messages: PROMPT,
    });
    expect(text).toBe(plain.choices[0]!.message.content);

    const stored = await settledMessages(h, u.userId, 2);
    expect(stored[0]).toMatchObject({
      content: text,
      outcome: 'completed',
      completionTokens: usage!.completion_tokens,
    });
    expect(stored[0].ttftMs).not.toBeNull();
    const events = await auditEvents(h, u.userId, 'chat.completion');
    expect(events.map((e: { payload: { stream: boolean } }) => e.payload.stream)).toEqual([
      true,
      false,
    ]);
  });

  it('relays no usage chunk to a client that did not ask, but still accounts the tokens', async () => {
    const u = await h.user('nousage@example.com');
    const stream = await u.client.chat.completions.create({
      model: 'enclave-sim',
      messages: PROMPT,
      stream: true,
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => !c.usage)).toBe(true);
    const [stored] = await settledMessages(h, u.userId, 1);
    expect(stored.completionTokens).toBeGreaterThan(0);
  });

  it('round-trips a tool call, streamed and not', async () => {
    const u = await h.user('tools@example.com');
    const first = await u.client.chat.completions.create({
      model: 'enclave-sim',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [WEATHER_TOOL],
    });
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call.type).toBe('function');
    if (call.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toHaveProperty('city');

    const second = await u.client.chat.completions.create({
      model: 'enclave-sim',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '{"temp": 21}' },
      ],
      tools: [WEATHER_TOOL],
    });
    expect(second.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(second.choices[0]!.finish_reason).toBe('stop');

    const stream = await u.client.chat.completions.create({
      model: 'enclave-sim',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [WEATHER_TOOL],
      stream: true,
    });
    let name = '';
    let args = '';
    for await (const chunk of stream) {
      for (const tc of chunk.choices[0]?.delta?.tool_calls ?? []) {
        name += tc.function?.name ?? '';
        args += tc.function?.arguments ?? '';
      }
    }
    expect(name).toBe('get_weather');
    expect(args).toBe(call.function.arguments);

    const stored = await settledMessages(h, u.userId, 3);
    expect(stored[0].toolCalls).toEqual([
      {
        id: call.id,
        type: 'function',
        function: { name: 'get_weather', arguments: call.function.arguments },
      },
    ]);
    expect(stored[2].toolCalls[0].function).toEqual({ name: 'get_weather', arguments: args });
  });

  it('passes response_format, seed, stop and max_tokens through', async () => {
    const u = await h.user('params@example.com');
    const json = await u.client.chat.completions.create({
      model: 'enclave-sim',
      messages: PROMPT,
      response_format: { type: 'json_object' },
      seed: 7,
    });
    expect(() => JSON.parse(json.choices[0]!.message.content!)).not.toThrow();
    const capped = await u.client.chat.completions.create({
      model: 'enclave-sim',
      messages: PROMPT,
      max_tokens: 3,
    });
    expect(capped.choices[0]!.finish_reason).toBe('length');
    expect(capped.usage!.completion_tokens).toBe(3);
  });

  it('creates embeddings and audits them', async () => {
    const u = await h.user('embed@example.com');
    const res = await u.client.embeddings.create({ model: 'enclave-sim', input: ['a', 'b'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0]!.embedding.length).toBeGreaterThan(0);
    expect(typeof res.data[0]!.embedding[0]).toBe('number');
    const events = await auditEvents(h, u.userId, 'embedding.created');
    expect(events).toHaveLength(1);
    expect(events[0].payload).toMatchObject({ inputs: 2, model: 'enclave-sim' });
  });
});

describe('bad input and refused calls', () => {
  let h: ChatHarness;
  let u: Awaited<ReturnType<ChatHarness['user']>>;
  beforeAll(async () => {
    h = await ChatHarness.start();
    u = await h.user('bad@example.com');
  });
  afterAll(async () => {
    await h.stop();
  });

  /** Runs a refused call and checks it left one audit event and nothing else. */
  async function refused(
    call: () => Promise<unknown>,
    expected: { status: number; code: string; action?: string },
  ) {
    const messagesBefore = await h.count('SELECT 1 FROM messages');
    const auditBefore = await h.count('SELECT 1 FROM audit_events');
    const err = await call().then(
      () => {
        throw new Error('expected the call to be refused');
      },
      (e: unknown) => e,
    );
    expect(await h.count('SELECT 1 FROM messages')).toBe(messagesBefore);
    expect(await h.count('SELECT 1 FROM audit_events')).toBe(auditBefore + 1);
    const [last] = await h.dataSource.query(
      'SELECT action, payload FROM audit_events ORDER BY id DESC LIMIT 1',
    );
    expect(last.action).toBe(expected.action ?? 'request.rejected');
    expect(last.payload).toMatchObject({ status: expected.status, code: expected.code });
    return err;
  }

  async function raw(body: string, headers: Record<string, string> = {}) {
    return fetch(`${h.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${u.key}`, ...headers },
      body,
    });
  }

  it.each([
    ['malformed JSON', '{"model": "enclave-sim", "messages": [', 'invalid_json'],
    ['missing messages', '{"model": "enclave-sim"}', 'invalid_body'],
    ['empty messages', '{"model": "enclave-sim", "messages": []}', 'invalid_body'],
    [
      'wrong types',
      '{"model": "enclave-sim", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}',
      'invalid_body',
    ],
    [
      'an unknown role',
      '{"model": "enclave-sim", "messages": [{"role": "robot", "content": "x"}]}',
      'invalid_body',
    ],
  ])('refuses %s with 400 and an OpenAI-shaped error', async (_label, body, code) => {
    const res = (await refused(() => raw(body).then(rejectUnlessOk), {
      status: 400,
      code,
    })) as Response;
    expect(res.status).toBe(400);
    const json = (await res.json()) as ErrorBody;
    expect(json.error).toMatchObject({ code, type: 'invalid_request_error' });
    expect(typeof json.error.message).toBe('string');
  });

  it('raises BadRequestError in the SDK for an invalid body', async () => {
    const err = await refused(
      () =>
        u.client.chat.completions.create({
          model: 'enclave-sim',
          messages: [],
        }),
      { status: 400, code: 'invalid_body' },
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('invalid_body');
  });

  it('refuses a 10 MB body with 413', async () => {
    const big = JSON.stringify({
      model: 'enclave-sim',
      messages: [{ role: 'user', content: 'x'.repeat(10 * 1024 * 1024) }],
    });
    const res = (await refused(() => raw(big).then(rejectUnlessOk), {
      status: 413,
      code: 'request_too_large',
    })) as Response;
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).error.code).toBe('request_too_large');
  });

  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  it.each([
    [
      'a value nested 5,000 levels deep',
      `{"model": "enclave-sim", "messages": [{"role": "user", "content": ${nested(5_000)}}]}`,
      'deeper than 64 levels',
    ],
    [
      'a value nested 65 levels deep',
      `{"model": "enclave-sim", "messages": [{"role": "user", "content": "hi"}], "x": ${nested(64)}}`,
      'deeper than 64 levels',
    ],
    [
      '100,001 values',
      `{"model": "enclave-sim", "messages": [{"role": "user", "content": "hi"}], "x": [${'0,'.repeat(100_000)}0]}`,
      'more than 100000 values',
    ],
    [
      'a __proto__ key',
      '{"model": "enclave-sim", "messages": [{"role": "user", "content": "hi"}], "__proto__": {"a": 1}}',
      '__proto__',
    ],
  ])('refuses %s with 400 invalid_body naming the limit', async (_label, body, limit) => {
    const res = (await refused(() => raw(body).then(rejectUnlessOk), {
      status: 400,
      code: 'invalid_body',
    })) as Response;
    const json = (await res.json()) as ErrorBody;
    expect(json.error.code).toBe('invalid_body');
    expect(json.error.message).toContain(limit);
  });

  it('counts brackets and commas inside strings as text, not structure', async () => {
    const content = `${'['.repeat(100)}${','.repeat(200_000)} \\ "quoted" [`;
    const ok = await raw(
      JSON.stringify({ model: 'enclave-sim', messages: [{ role: 'user', content }] }),
    );
    expect(ok.status).toBe(200);
  });

  it.each([
    ['a text body', { 'content-type': 'text/plain' }, 'unsupported_media_type'],
    [
      'a form body',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'unsupported_media_type',
    ],
    ['a gzip body', { 'content-encoding': 'gzip' }, 'unsupported_encoding'],
    [
      'a latin-1 body',
      { 'content-type': 'application/json; charset=latin1' },
      'unsupported_encoding',
    ],
  ])('refuses %s with 415', async (_label, headers, code) => {
    const body = JSON.stringify({ model: 'enclave-sim', messages: PROMPT });
    const res = (await refused(() => raw(body, headers).then(rejectUnlessOk), {
      status: 415,
      code,
    })) as Response;
    expect(((await res.json()) as ErrorBody).error.code).toBe(code);
  });

  it('refuses an unknown model with NotFoundError (404)', async () => {
    const err = await refused(
      () => u.client.chat.completions.create({ model: 'gpt-17', messages: PROMPT }),
      { status: 404, code: 'model_not_found' },
    );
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('refuses a model outside the key scope with PermissionDeniedError (403)', async () => {
    const scoped = await h.user('scoped@example.com', { models: ['enclave-sim'] });
    const err = await refused(
      () => scoped.client.chat.completions.create({ model: 'sim-large', messages: PROMPT }),
      { status: 403, code: 'model_not_allowed', action: 'auth.request.denied' },
    );
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
  });

  it('refuses missing, invalid, expired and revoked keys with AuthenticationError (401)', async () => {
    const missing = await refused(
      () =>
        fetch(`${h.baseURL}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'enclave-sim', messages: PROMPT }),
        }).then(rejectUnlessOk),
      { status: 401, code: 'missing_credentials', action: 'auth.request.denied' },
    );
    expect((missing as Response).status).toBe(401);

    const invalid = openaiClient(`${h.baseURL}/v1`, 'ek_00000000_' + 'A'.repeat(43));
    const e1 = await refused(() => invalid.models.list(), {
      status: 401,
      code: 'invalid_api_key',
      action: 'auth.request.denied',
    });
    expect(e1).toBeInstanceOf(OpenAI.AuthenticationError);

    const expired = await h.user('expired@example.com', { expiresAt: new Date(Date.now() - 1000) });
    const e2 = await refused(
      () => expired.client.chat.completions.create({ model: 'enclave-sim', messages: PROMPT }),
      { status: 401, code: 'expired_api_key', action: 'auth.request.denied' },
    );
    expect(e2).toBeInstanceOf(OpenAI.AuthenticationError);

    const revoked = await h.user('revoked@example.com');
    await h.dataSource.query('UPDATE api_keys SET revoked_at = now() WHERE prefix = $1', [
      revoked.prefix,
    ]);
    const e3 = await refused(
      () => revoked.client.chat.completions.create({ model: 'enclave-sim', messages: PROMPT }),
      { status: 401, code: 'revoked_api_key', action: 'auth.request.denied' },
    );
    expect(e3).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('keeps serving after all of that', async () => {
    const ok = await u.client.chat.completions.create({ model: 'enclave-sim', messages: PROMPT });
    expect(ok.choices[0]!.message.content!.length).toBeGreaterThan(0);
  });
});

describe('upstream trouble', () => {
  const started: ChatHarness[] = [];
  afterAll(async () => {
    await Promise.all(started.map((h) => h.stop()));
  });
  async function harness(...args: Parameters<typeof ChatHarness.start>) {
    const h = await ChatHarness.start(...args);
    started.push(h);
    return h;
  }

  it('passes an upstream 429 on as RateLimitError with Retry-After', async () => {
    const h = await harness({ errorRate: 1, errorStatus: 429 });
    const u = await h.user('busy@example.com');
    const err = await expectError(
      u.client.chat.completions.create({ model: 'enclave-sim', messages: PROMPT }),
      OpenAI.RateLimitError,
    );
    expect(err.headers.get('retry-after')).toBe('1');
    const [stored] = await settledMessages(h, u.userId, 1);
    expect(stored.outcome).toBe('upstream_error');
    const events = await auditEvents(h, u.userId, 'chat.completion');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'failure' });
    expect(events[0].payload.errorCode).toBe('upstream_rate_limited');
  });

  it('answers 502 when the upstream fails', async () => {
    const h = await harness({ errorRate: 1, errorStatus: 500 });
    const u = await h.user('fail@example.com');
    const err = await expectError(
      u.client.chat.completions.create({ model: 'enclave-sim', messages: PROMPT }),
      OpenAI.InternalServerError,
    );
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_error');
  });

  it('answers 503 when the upstream cannot be reached', async () => {
    const h = await harness({}, { ENCLAVE_UPSTREAM_URL: 'http://127.0.0.1:9/v1' });
    const u = await h.user('down@example.com');
    const err = await expectError(
      u.client.chat.completions.create({ model: 'enclave-sim', messages: PROMPT }),
      OpenAI.InternalServerError,
    );
    expect(err.status).toBe(503);
    expect(err.code).toBe('no_backend_available');
    const events = await auditEvents(h, u.userId, 'chat.completion');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'failure' });
    expect(events[0].payload.errorCode).toBe('no_backend_available');
  });

  it('answers 504 when the upstream does not start answering in time', async () => {
    const h = await harness({ stallRate: 1, stallMs: 0 }, { ENCLAVE_UPSTREAM_TIMEOUT_MS: '300' });
    const u = await h.user('slow@example.com');
    for (const stream of [false, true]) {
      const err = await expectError(
        u.client.chat.completions.create({ model: 'enclave-sim', messages: PROMPT, stream }),
        OpenAI.InternalServerError,
      );
      expect(err.status).toBe(504);
      expect(err.code).toBe('upstream_timeout');
    }
    const stored = await settledMessages(h, u.userId, 2);
    expect(stored.map((m: { outcome: string }) => m.outcome)).toEqual([
      'upstream_error',
      'upstream_error',
    ]);
  });

  it('ends a stream the upstream drops with an error event and keeps the partial answer', async () => {
    const h = await harness({ dropRate: 1, dropAfterTokens: 3 });
    const u = await h.user('drop@example.com');
    const stream = await u.client.chat.completions.create({
      model: 'enclave-sim',
      messages: PROMPT,
      stream: true,
    });
    let received = '';
    const err = await expectError(
      (async () => {
        for await (const chunk of stream) received += chunk.choices[0]?.delta?.content ?? '';
      })(),
      OpenAI.APIError,
    );
    expect(err.message).toContain('stopped in the middle of the answer');
    expect(received.split(' ').filter(Boolean)).toHaveLength(3);
    const [stored] = await settledMessages(h, u.userId, 1);
    expect(stored).toMatchObject({ outcome: 'upstream_error', content: received });
    const events = await auditEvents(h, u.userId, 'chat.completion');
    expect(events).toHaveLength(1);
    expect(events[0].payload.errorCode).toBe('upstream_stream_broken');
  });

  it('records a client that leaves mid-stream: partial text, one audit event', async () => {
    const h = await harness({ tokensPerSec: 50, replyTokens: 500 });
    const u = await h.user('leaver@example.com');
    const stream = await u.client.chat.completions.create({
      model: 'enclave-sim',
      messages: PROMPT,
      stream: true,
    });
    let received = '';
    let n = 0;
    // Leaving the loop early closes the connection, as a closed browser tab would.
    for await (const chunk of stream) {
      received += chunk.choices[0]?.delta?.content ?? '';
      if (++n === 5) break;
    }
    const [stored] = await settledMessages(h, u.userId, 1);
    expect(stored.outcome).toBe('client_disconnected');
    expect(stored.content.startsWith(received)).toBe(true);
    expect(stored.content.split(' ').length).toBeLessThan(500);
    const events = await auditEvents(h, u.userId, 'chat.completion');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'partial' });
  });
});

interface ErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

async function rejectUnlessOk(res: Response): Promise<Response> {
  if (res.ok) return res;
  throw res;
}
