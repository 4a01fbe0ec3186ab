import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, streamText, tool } from 'ai';
import { BackendsRepository, UpstreamPool } from '@enclave/llm';
import { LegalHolds } from '@enclave/audit-chain';
import { UsersRepository } from '@enclave/auth';
import { applyRetention, eraseUser } from '@enclave/privacy';
import OpenAI from 'openai';
import type { FunctionTool, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { ChatHarness } from '../../../test/support/chat-harness.js';
import { realmFetch } from '../../../test/support/openai.js';

// OpenAI's Responses API (POST /v1/responses) through Enclave, with the official SDK and the
// Vercel AI SDK's default provider, against a backend that serves only chat completions (the
// request is translated) and against one that serves /v1/responses itself (forwarded).

const WEATHER: FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
    additionalProperties: false,
  },
  strict: true,
};

async function collect(stream: AsyncIterable<ResponseStreamEvent>) {
  const events: ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function completedOf(events: ResponseStreamEvent[]) {
  const last = events[events.length - 1];
  if (last?.type !== 'response.completed') throw new Error(`ended with ${last?.type}`);
  return last.response;
}

/** The assistant messages stored for the user, once none is in progress. */
async function storedMessages(h: ChatHarness, userId: string, expected: number) {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const rows: { content: string; outcome: string; toolCalls: unknown }[] =
      await h.dataSource.query(
        `SELECT content, outcome, tool_calls AS "toolCalls" FROM messages
          WHERE user_id = $1 AND role = 'assistant' ORDER BY created_at`,
        [userId],
      );
    const settled = rows.filter((r) => r.outcome !== 'in_progress');
    if (settled.length >= expected || Date.now() > deadline) return settled;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const BACKENDS = [
  { kind: 'a backend that serves only chat completions', responsesApi: false },
  { kind: 'a backend that serves /v1/responses itself', responsesApi: true },
];

describe.each(BACKENDS)('the Responses API through Enclave, with $kind', ({ responsesApi }) => {
  let h: ChatHarness;
  let user: { userId: string; key: string; client: OpenAI };
  /** The upstream path every answer must have taken, and the one none may take. */
  const used = responsesApi ? '/v1/responses' : '/v1/chat/completions';
  const unused = responsesApi ? '/v1/chat/completions' : '/v1/responses';

  beforeAll(async () => {
    h = await ChatHarness.start({ responsesApi });
    if (responsesApi) {
      const [backend] = await h.app.get(BackendsRepository).list();
      await h.app
        .get(BackendsRepository)
        .update(h.dataSource.manager, backend!.id, { responsesApi: true });
      await h.app.get(UpstreamPool).reload();
    }
    user = await h.user(`responses-${responsesApi}@example.com`);
  });
  afterAll(async () => {
    expect(h.sim.served[unused] ?? 0).toBe(0);
    await h.stop();
  });

  it('answers a plain request, stores it for GET, records the message and its audit event', async () => {
    const before = h.sim.served[used] ?? 0;
    const response = await user.client.responses.create({
      model: 'enclave-sim',
      instructions: 'You are terse.',
      input: 'What is the capital of France?',
      metadata: { ticket: 'T-1' },
    });
    expect(h.sim.served[used]).toBe(before + 1);
    expect(response.object).toBe('response');
    expect(response.id).toMatch(/^resp_/);
    expect(response.status).toBe('completed');
    expect(response.metadata).toEqual({ ticket: 'T-1' });
    expect(response.output_text.split(' ').length).toBe(12);
    expect(response.usage!.output_tokens).toBe(12);
    expect(response.usage!.input_tokens).toBeGreaterThan(0);

    const again = await user.client.responses.retrieve(response.id);
    expect(again.id).toBe(response.id);
    expect(again.output_text).toBe(response.output_text);

    const messages = await storedMessages(h, user.userId, 1);
    expect(messages.at(-1)).toMatchObject({ content: response.output_text, outcome: 'completed' });
    const [{ n, endpoints }] = await h.dataSource.query(
      `SELECT count(*)::int AS n, array_agg(DISTINCT payload->>'endpoint') AS endpoints
         FROM audit_events WHERE action = 'chat.completion' AND actor_id = $1`,
      [user.userId],
    );
    expect(n).toBeGreaterThanOrEqual(1);
    expect(endpoints).toEqual(['responses']);
  });

  it('streams Responses events with the usage at the end', async () => {
    const events = await collect(
      await user.client.responses.create({
        model: 'enclave-sim',
        input: [{ role: 'user', content: [{ type: 'input_text', text: 'Tell me a story' }] }],
        stream: true,
      }),
    );
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('response.created');
    expect(types).toContain('response.output_text.delta');
    expect(types).toContain('response.output_item.done');
    const response = completedOf(events);
    const deltas = events.flatMap((e) =>
      e.type === 'response.output_text.delta' ? [e.delta] : [],
    );
    expect(deltas.join('')).toBe(
      response.output[0]!.type === 'message' &&
        (response.output[0].content[0] as { text: string }).text,
    );
    expect(response.usage!.output_tokens).toBe(12);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    // Stored before response.completed went out.
    const stored = await user.client.responses.retrieve(response.id);
    expect(stored.status).toBe('completed');

    // The SDK's stream helper builds the response from the events; it must match the final one.
    const helper = user.client.responses.stream({ model: 'enclave-sim', input: 'Another story' });
    const texts: string[] = [];
    helper.on('response.output_text.delta', (e) => texts.push(e.delta));
    const final = await helper.finalResponse();
    expect(final.output_text).toBe(texts.join(''));
    expect(final.output_text.split(' ').length).toBe(12);
  });

  it('answers in the JSON schema of text.format, and stops at max_output_tokens as incomplete', async () => {
    const structured = await user.client.responses.create({
      model: 'enclave-sim',
      input: 'Name a city',
      text: {
        format: {
          type: 'json_schema',
          name: 'city',
          schema: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
            additionalProperties: false,
          },
          strict: true,
        },
      },
    });
    expect(Object.keys(JSON.parse(structured.output_text))).toEqual(['city']);
    expect(structured.text?.format).toMatchObject({ type: 'json_schema', name: 'city' });

    const cut = await user.client.responses.create({
      model: 'enclave-sim',
      input: 'Tell me everything',
      max_output_tokens: 3,
    });
    expect(cut.status).toBe('incomplete');
    expect(cut.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(cut.usage!.output_tokens).toBe(3);
  });

  it('calls a function tool and continues from the tool output with previous_response_id', async () => {
    const first = await user.client.responses.create({
      model: 'enclave-sim',
      input: 'What is the weather in Paris?',
      tools: [WEATHER],
    });
    const call = first.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather' });
    if (call?.type !== 'function_call') throw new Error('no function call');
    expect(JSON.parse(call.arguments)).toHaveProperty('city');

    const second = await user.client.responses.create({
      model: 'enclave-sim',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"celsius":21}' }],
      tools: [WEATHER],
    });
    expect(second.previous_response_id).toBe(first.id);
    expect(second.output.map((o) => o.type)).toEqual(['message']);
    expect(second.output_text.length).toBeGreaterThan(0);

    // Its input items: the question, the call and the tool's output, newest first by default,
    // paged by the SDK two at a time.
    const listed = [];
    for await (const item of user.client.responses.inputItems.list(second.id, { limit: 2 })) {
      listed.push(item);
    }
    expect(listed.map((i) => i.type)).toEqual(['function_call_output', 'function_call', 'message']);
    expect(listed[1]).toMatchObject({ id: call.id, call_id: call.call_id, name: 'get_weather' });
    expect(listed[2]).toMatchObject({
      role: 'user',
      content: [{ type: 'input_text', text: 'What is the weather in Paris?' }],
    });
    const oldestFirst = await user.client.responses.inputItems.list(second.id, { order: 'asc' });
    expect(oldestFirst.data.map((i) => i.id)).toEqual(listed.map((i) => i.id).reverse());
    expect(oldestFirst.has_more).toBe(false);
    await expect(
      user.client.responses.inputItems.list(second.id, { after: 'no-such-item' }),
    ).rejects.toMatchObject({ status: 400, code: 'invalid_cursor' });
  });

  it('streams a function call as argument deltas', async () => {
    const events = await collect(
      await user.client.responses.create({
        model: 'enclave-sim',
        input: 'Weather in Oslo?',
        tools: [WEATHER],
        tool_choice: { type: 'function', name: 'get_weather' },
        stream: true,
      }),
    );
    const args = events.flatMap((e) =>
      e.type === 'response.function_call_arguments.delta' ? [e.delta] : [],
    );
    expect(args.length).toBeGreaterThan(0);
    const call = completedOf(events).output[0];
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather' });
    expect(args.join('')).toBe(call!.type === 'function_call' && call.arguments);
  });

  it("serves the AI SDK's default provider: generateText, streamText and a tool loop", async () => {
    const openai = createOpenAI({
      baseURL: `${h.baseURL}/v1`,
      apiKey: user.key,
      fetch: realmFetch,
    });
    const generated = await generateText({
      model: openai('enclave-sim'),
      prompt: 'Say hello',
    });
    expect(generated.text.split(' ').length).toBe(12);
    expect(generated.usage.outputTokens).toBe(12);

    const streamed = streamText({ model: openai('enclave-sim'), prompt: 'Say goodbye' });
    expect((await streamed.text).split(' ').length).toBe(12);

    // A tool call, its result and the model's answer to it: two requests, the second one
    // carrying the function call and its output.
    let ran = 0;
    const looped = await generateText({
      model: openai('enclave-sim'),
      prompt: 'Weather in Rome?',
      tools: {
        get_weather: tool({
          description: 'Weather for a city',
          inputSchema: jsonSchema<{ city: string }>({
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
          }),
          execute: async () => {
            ran++;
            return { celsius: 25 };
          },
        }),
      },
      stopWhen: ({ steps }) => steps.length >= 2,
    });
    expect(ran).toBe(1);
    expect(looped.steps.length).toBe(2);
    expect(looped.text.length).toBeGreaterThan(0);
  });
});

describe('stored responses belong to their owner', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await ChatHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  it("is 404 for another user's response id, on GET, DELETE and previous_response_id", async () => {
    const alice = await h.user('alice-responses@example.com');
    const bob = await h.user('bob-responses@example.com');
    const mine = await alice.client.responses.create({ model: 'enclave-sim', input: 'secret' });

    await expect(bob.client.responses.retrieve(mine.id)).rejects.toMatchObject({
      status: 404,
      code: 'response_not_found',
    });
    await expect(bob.client.responses.delete(mine.id)).rejects.toMatchObject({ status: 404 });
    await expect(
      bob.client.responses.create({
        model: 'enclave-sim',
        input: 'go on',
        previous_response_id: mine.id,
      }),
    ).rejects.toMatchObject({ status: 404, code: 'response_not_found' });
    await expect(bob.client.responses.inputItems.list(mine.id)).rejects.toMatchObject({
      status: 404,
      code: 'response_not_found',
    });
    // Still there for alice.
    expect((await alice.client.responses.retrieve(mine.id)).id).toBe(mine.id);
  });

  it('fails over from a failing Responses backend to a chat-only one, invisibly', async () => {
    // Preferred by weight, and failing every call: the request then goes to the chat-only backend.
    const failing = await h.extraSim({ responsesApi: true, errorRate: 1, errorStatus: 503 });
    await h.app.get(BackendsRepository).insert(h.dataSource.manager, {
      name: 'responses-failing',
      baseUrl: failing.url,
      apiKeySealed: null,
      models: ['enclave-sim'],
      weight: 1000,
      maxConcurrent: 16,
      timeoutMs: 10_000,
      enabled: true,
      responsesApi: true,
    });
    await h.app.get(UpstreamPool).reload();
    try {
      const jo = await h.user('jo-responses@example.com');
      const chatBefore = h.sim.served['/v1/chat/completions'] ?? 0;
      const answer = await jo.client.responses.create({ model: 'enclave-sim', input: 'hello' });
      expect(answer.status).toBe('completed');
      expect(failing.sim.served['/v1/responses']).toBe(1);
      expect(h.sim.served['/v1/chat/completions']).toBe(chatBefore + 1);
    } finally {
      const [row] = (await h.app.get(BackendsRepository).list()).filter(
        (b) => b.name === 'responses-failing',
      );
      await h.app.get(BackendsRepository).delete(h.dataSource.manager, row!.id);
      await h.app.get(UpstreamPool).reload();
    }
  });

  it("resolves item references to the caller's own stored output items only", async () => {
    const hal = await h.user('hal-responses@example.com');
    const ivy = await h.user('ivy-responses@example.com');
    const first = await hal.client.responses.create({ model: 'enclave-sim', input: 'hi' });
    const item = { type: 'item_reference' as const, id: first.output[0]!.id! };
    const next = await hal.client.responses.create({
      model: 'enclave-sim',
      input: [{ role: 'user', content: 'hi' }, item, { role: 'user', content: 'and then?' }],
    });
    expect(next.status).toBe('completed');
    const [row] = await h.dataSource.query('SELECT input FROM stored_responses WHERE id = $1', [
      next.id,
    ]);
    expect(row.input[1]).toMatchObject({ type: 'message', role: 'assistant', id: item.id });
    await expect(
      ivy.client.responses.create({ model: 'enclave-sim', input: [item] }),
    ).rejects.toMatchObject({ status: 404, code: 'item_not_found', param: 'input[0]' });

    // Found through the index of output item ids, not by reading every stored response.
    const [plan] = await h.dataSource.transaction(async (db) => {
      await db.query('SET LOCAL enable_seqscan = off');
      return db.query(
        `EXPLAIN (FORMAT JSON) SELECT id FROM stored_responses
          WHERE jsonb_path_query_array(response, '$.output[*].id') ?| $1::text[]`,
        [[item.id]],
      );
    });
    expect(JSON.stringify(plan)).toContain('stored_responses_output_ids_idx');
  });

  it('applies the same model access as chat completions', async () => {
    const scoped = await h.user('scoped-responses@example.com', { models: ['sim-large'] });
    await expect(
      scoped.client.responses.create({ model: 'enclave-sim', input: 'hi' }),
    ).rejects.toMatchObject({ status: 403, code: 'model_not_allowed' });
    await expect(
      scoped.client.responses.create({ model: 'no-such-model', input: 'hi' }),
    ).rejects.toMatchObject({ status: 403 });
    const ok = await scoped.client.responses.create({ model: 'sim-large', input: 'hi' });
    expect(ok.model).toBe('sim-large');
  });

  it('keeps nothing with store: false, and DELETE removes a stored one', async () => {
    const carol = await h.user('carol-responses@example.com');
    const unstored = await carol.client.responses.create({
      model: 'enclave-sim',
      input: 'forget this',
      store: false,
    });
    await expect(carol.client.responses.retrieve(unstored.id)).rejects.toMatchObject({
      status: 404,
    });
    const stored = await carol.client.responses.create({ model: 'enclave-sim', input: 'keep' });
    await carol.client.responses.delete(stored.id);
    await expect(carol.client.responses.retrieve(stored.id)).rejects.toMatchObject({ status: 404 });
  });

  it('answers from the cache only what was asked the same way (temperature 0)', async () => {
    const asker = await h.user('cache-responses@example.com');
    const ask = async (effort: 'low' | 'high') => {
      const { response } = await asker.client.responses
        .create({
          model: 'enclave-sim',
          input: 'The same question',
          temperature: 0,
          reasoning: { effort },
          store: false,
        })
        .withResponse();
      return response.headers.get('x-enclave-cache');
    };
    expect(await ask('low')).toBe('miss');
    expect(await ask('low')).toBe('hit');
    // Only the Responses API has reasoning.effort: it is part of what the cache tells apart.
    expect(await ask('high')).toBe('miss');
  });

  it('refuses built-in tools with 400 unsupported_tool naming them', async () => {
    const dave = await h.user('dave-responses@example.com');
    const err = await dave.client.responses
      .create({
        model: 'enclave-sim',
        input: 'search the web',
        tools: [{ type: 'web_search' }, { type: 'file_search', vector_store_ids: ['vs_1'] }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, code: 'unsupported_tool', param: 'tools' });
    expect((err as Error).message).toContain('web_search, file_search');
  });

  it("deletes an erased user's stored responses", async () => {
    const erin = await h.user('erin-responses@example.com');
    const first = await erin.client.responses.create({ model: 'enclave-sim', input: 'one' });
    await erin.client.responses.create({
      model: 'enclave-sim',
      input: 'two',
      previous_response_id: first.id,
    });
    const count = () => h.count('SELECT 1 FROM stored_responses WHERE user_id = $1', [erin.userId]);
    expect(await count()).toBe(2);

    const result = await h.dataSource.transaction((m) =>
      eraseUser(m, erin.userId, 'right to erasure', { type: 'system', id: null, label: 'jest' }),
    );
    expect(result.storedResponses).toBe(2);
    expect(await count()).toBe(0);
    await expect(erin.client.responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
  });

  it('removes stored responses past the message retention, except under a legal hold', async () => {
    const frank = await h.user('frank-responses@example.com');
    const gina = await h.user('gina-responses@example.com');
    const kept = await frank.client.responses.create({ model: 'enclave-sim', input: 'held' });
    await gina.client.responses.create({ model: 'enclave-sim', input: 'not held' });
    await h.dataSource.transaction((m) =>
      new LegalHolds(h.app.get(UsersRepository)).create(
        m,
        { userId: frank.userId, from: null, to: null, reason: 'case 12' },
        { type: 'user', id: null, label: 'admin@example.com' },
      ),
    );
    const count = (userId: string) =>
      h.count('SELECT 1 FROM stored_responses WHERE user_id = $1', [userId]);

    // Sixty days on, with messages kept thirty: gina's response goes, frank's is held.
    const later = new Date(Date.now() + 60 * 86_400_000);
    const result = await applyRetention(
      h.dataSource,
      { audit: { default: null, byKind: {} }, messageDays: 30 },
      later,
    );
    expect(result.storedResponsesDeleted).toBeGreaterThanOrEqual(1);
    expect(result.storedResponsesHeld).toBe(1);
    expect(await count(gina.userId)).toBe(0);
    expect(await count(frank.userId)).toBe(1);
    expect((await frank.client.responses.retrieve(kept.id)).id).toBe(kept.id);
  });

  it('removes a follow-up with the old turns it copies, once they pass the retention', async () => {
    const hal = await h.user('old-turns@example.com');
    const old = await hal.client.responses.create({ model: 'enclave-sim', input: 'Long ago' });
    await h.dataSource.query(
      `UPDATE stored_responses SET created_at = now() - interval '40 days',
              content_since = now() - interval '40 days' WHERE id = $1`,
      [old.id],
    );
    const followUp = await hal.client.responses.create({
      model: 'enclave-sim',
      input: 'And today?',
      previous_response_id: old.id,
    });
    const fresh = await hal.client.responses.create({ model: 'enclave-sim', input: 'New topic' });

    await applyRetention(
      h.dataSource,
      { audit: { default: null, byKind: {} }, messageDays: 30 },
      new Date(),
    );
    // The follow-up holds a copy of the 40-day-old turn: it goes with it.
    for (const gone of [old.id, followUp.id]) {
      await expect(hal.client.responses.retrieve(gone)).rejects.toMatchObject({ status: 404 });
    }
    expect((await hal.client.responses.retrieve(fresh.id)).id).toBe(fresh.id);
  });
});
