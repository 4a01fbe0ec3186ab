import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { PolicyService, QuotasRepository } from '@enclave/policy';
import { RuntimePoliciesService } from '@enclave/policy';
import { ChatHarness } from '../../../test/support/chat-harness.js';
import { openaiClient } from '../../../test/support/openai.js';

// What clients written for vLLM, LiteLLM or a newer OpenAI API send to /v1 (issue 21): unknown
// request fields reach the upstream unchanged, `n` > 1, legacy /v1/completions, and the
// x-ratelimit-* headers. The official SDK (and plain fetch) against a real chat app, the
// simulator as the upstream, real Postgres.

const PROMPT: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Name a river in Europe.' },
];

/** vLLM's extra sampling and template parameters, as its own docs show them. */
const VLLM_EXTRAS = {
  top_k: 20,
  min_p: 0.05,
  repetition_penalty: 1.1,
  chat_template_kwargs: { enable_thinking: false },
  guided_json: {
    type: 'object',
    properties: { river: { type: 'string' } },
    required: ['river'],
  },
};

type User = Awaited<ReturnType<ChatHarness['user']>>;

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

describe('/v1 compatibility with vLLM, LiteLLM and newer OpenAI clients', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await ChatHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  /** The body the simulator received last on `path`. */
  function lastReceived(path: string): Record<string, unknown> {
    const hit = h.sim.received.filter((r) => r.path === path).at(-1);
    if (!hit) throw new Error(`the simulator received nothing on ${path}`);
    return hit.body as Record<string, unknown>;
  }

  async function assistantMessages(userId: string) {
    return h.dataSource.query(
      `SELECT content, outcome, prompt_tokens AS "promptTokens",
              completion_tokens AS "completionTokens", model, finish_reason AS "finishReason"
         FROM messages WHERE user_id = $1 AND role = 'assistant' ORDER BY created_at`,
      [userId],
    );
  }

  async function completionEvents(userId: string) {
    const rows: { outcome: string; payload: Record<string, unknown> }[] = await h.dataSource.query(
      `SELECT outcome, payload FROM audit_events
          WHERE action = 'chat.completion' AND actor_id = $1 ORDER BY id`,
      [userId],
    );
    return rows;
  }

  async function setQuota(
    u: User,
    limits: { requestsPerMinute?: number; tokensPerDay?: number },
  ): Promise<void> {
    await h.dataSource.transaction((db) =>
      h.app.get(QuotasRepository).upsert(db, {
        scope: 'user',
        subjectId: u.userId,
        requestsPerMinute: limits.requestsPerMinute ?? null,
        tokensPerDay: limits.tokensPerDay ?? null,
        tokensPerMonth: null,
      }),
    );
    await h.app.get(PolicyService).reload();
  }

  describe('unknown request fields', () => {
    it('passes a vLLM-style request (top_k, chat_template_kwargs, …) to the upstream unchanged', async () => {
      const u = await h.user('vllm@example.com');
      const sent = { model: 'enclave-sim', messages: PROMPT, temperature: 0.7, ...VLLM_EXTRAS };
      // The SDK sends fields it does not know as they are (as `extra_body` in Python's).
      const completion = await u.client.chat.completions.create(
        sent as OpenAI.ChatCompletionCreateParamsNonStreaming,
      );
      expect(completion.choices[0]!.message.content).toBeTruthy();
      expect(lastReceived('/v1/chat/completions')).toEqual({ ...sent, stream: false });

      const stream = await u.client.chat.completions.create({
        ...(sent as OpenAI.ChatCompletionCreateParamsNonStreaming),
        stream: true,
      });
      for await (const _ of stream) void _;
      // Enclave asks for usage itself when streaming (to account for it); nothing else changes.
      expect(lastReceived('/v1/chat/completions')).toEqual({
        ...sent,
        stream: true,
        stream_options: { include_usage: true },
      });
    });

    it('passes newer OpenAI fields and new stream_options members through', async () => {
      const u = await h.user('newer-openai@example.com');
      const sent = {
        model: 'enclave-sim',
        messages: PROMPT,
        verbosity: 'low',
        prompt_cache_key: 'team-a',
        safety_identifier: 'user-42',
        reasoning_effort: 'none',
        tools: [
          { type: 'custom', custom: { name: 'sql', description: 'Runs a query' } },
          { type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } },
        ],
        tool_choice: {
          type: 'allowed_tools',
          allowed_tools: { mode: 'auto', tools: [{ type: 'custom', name: 'sql' }] },
        },
      };
      await u.client.chat.completions.create(sent as OpenAI.ChatCompletionCreateParamsNonStreaming);
      expect(lastReceived('/v1/chat/completions')).toEqual({ ...sent, stream: false });
    });

    it('still validates the fields it knows: 400 naming the field, nothing sent upstream', async () => {
      const u = await h.user('still-strict@example.com');
      const before = h.sim.received.length;
      const err = await expectError(
        u.client.chat.completions.create({
          model: 'enclave-sim',
          messages: PROMPT,
          top_p: 5,
          ...({ top_k: 20 } as object),
        }),
        OpenAI.BadRequestError,
      );
      expect(err.message).toMatch(/top_p/);
      const badTool = await expectError(
        u.client.chat.completions.create({
          model: 'enclave-sim',
          messages: PROMPT,
          tools: [{ type: 'function', function: { name: 'no spaces allowed' } }],
        }),
        OpenAI.BadRequestError,
      );
      expect(badTool.message).toMatch(/tools\.0\.function\.name/);
      await expectError(
        u.client.chat.completions.create({ model: 'enclave-sim', messages: PROMPT, n: 0 }),
        OpenAI.BadRequestError,
      );
      await expectError(
        u.client.chat.completions.create({ model: 'enclave-sim', messages: PROMPT, n: 129 }),
        OpenAI.BadRequestError,
      );
      expect(h.sim.received.length).toBe(before);
    });

    it('works for a client written for LiteLLM or vLLM: plain fetch with extra fields', async () => {
      const u = await h.user('plain-fetch@example.com');
      const post = (body: unknown) =>
        fetch(`${h.baseURL}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${u.key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const body = {
        model: 'enclave-sim',
        messages: [{ role: 'user', content: 'Hello' }],
        max_tokens: 5,
        ...VLLM_EXTRAS,
        skip_special_tokens: true,
        // LiteLLM's proxy passes these on for its own bookkeeping.
        metadata: { tags: ['batch-7'], trace_id: 'abc' },
        mock_testing_fallbacks: false,
      };
      const res = await post(body);
      expect(res.status).toBe(200);
      const json = (await res.json()) as OpenAI.ChatCompletion;
      expect(json.choices[0]!.finish_reason).toBe('length');
      expect(json.choices[0]!.message.content!.split(' ')).toHaveLength(5);
      expect(lastReceived('/v1/chat/completions')).toEqual({ ...body, stream: false });

      const streamed = await post({ ...body, stream: true });
      expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const text = await streamed.text();
      const events = text.split('\n\n').filter(Boolean);
      expect(events.at(-1)).toBe('data: [DONE]');
      const content = events
        .slice(0, -1)
        .map((e) => JSON.parse(e.slice('data: '.length)) as OpenAI.ChatCompletionChunk)
        .map((c) => c.choices[0]?.delta?.content ?? '')
        .join('');
      expect(content).toBe(json.choices[0]!.message.content);
    });
  });

  describe('n > 1', () => {
    it('answers n choices, stores choice 0 with the usage of all, counted once', async () => {
      const u = await h.user('n-plain@example.com');
      await setQuota(u, { tokensPerDay: 1_000_000 });
      const completion = await u.client.chat.completions.create({
        model: 'enclave-sim',
        messages: PROMPT,
        n: 2,
      });
      const direct = await openaiClient(h.config.upstream.url, 'none').chat.completions.create({
        model: 'enclave-sim',
        messages: PROMPT,
        n: 2,
      });
      expect(completion.choices.map((c) => c.message.content)).toEqual(
        direct.choices.map((c) => c.message.content),
      );
      expect(completion.choices[0]!.message.content).not.toBe(
        completion.choices[1]!.message.content,
      );
      expect(completion.usage).toEqual(direct.usage);

      const stored = await assistantMessages(u.userId);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({
        content: completion.choices[0]!.message.content,
        outcome: 'completed',
        promptTokens: completion.usage!.prompt_tokens,
        completionTokens: completion.usage!.completion_tokens,
      });
      const [counter] = await h.dataSource.query(
        `SELECT value::int AS value FROM policy_counters WHERE counter LIKE $1`,
        [`u:${u.userId}:tpd:%`],
      );
      expect(counter.value).toBe(completion.usage!.total_tokens);
      const [event] = await completionEvents(u.userId);
      expect(event!.payload).toMatchObject({ choices: 2, outcome: 'completed' });
    });

    it('streams several choices interleaved; the stored message is choice 0', async () => {
      const u = await h.user('n-stream@example.com');
      const plain = await u.client.chat.completions.create({
        model: 'enclave-sim',
        messages: PROMPT,
        n: 3,
      });
      const stream = await u.client.chat.completions.create({
        model: 'enclave-sim',
        messages: PROMPT,
        n: 3,
        stream: true,
        stream_options: { include_usage: true },
      });
      const texts = ['', '', ''];
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        usage ??= chunk.usage;
        for (const c of chunk.choices) texts[c.index] += c.delta.content ?? '';
      }
      expect(texts).toEqual(plain.choices.map((c) => c.message.content));
      expect(usage).toEqual(plain.usage);

      const stored = await assistantMessages(u.userId);
      expect(stored[1]).toMatchObject({
        content: texts[0],
        completionTokens: usage!.completion_tokens,
      });
      await h.app.get(RuntimePoliciesService).updateNow({ auditContent: 'full' });
      try {
        const again = await u.client.chat.completions.create({
          model: 'enclave-sim',
          messages: PROMPT,
          n: 2,
          stream: true,
        });
        for await (const _ of again) void _;
      } finally {
        await h.app.get(RuntimePoliciesService).updateNow({ auditContent: 'metadata' });
      }
      const events = await completionEvents(u.userId);
      expect(events.at(-1)!.payload).toMatchObject({
        choices: 2,
        answer: texts[0],
        otherChoices: [{ index: 1, content: texts[1], finishReason: 'stop' }],
      });
    });
  });

  describe('/v1/completions (legacy text completions)', () => {
    it('answers client.completions.create, stores the text and audits it', async () => {
      const u = await h.user('legacy@example.com');
      const completion = await u.client.completions.create({
        model: 'enclave-sim',
        prompt: 'Once upon a time',
        max_tokens: 8,
        ...({ top_k: 5 } as object),
      });
      expect(lastReceived('/v1/completions')).toEqual({
        model: 'enclave-sim',
        prompt: 'Once upon a time',
        max_tokens: 8,
        top_k: 5,
        stream: false,
      });
      const direct = await openaiClient(h.config.upstream.url, 'none').completions.create({
        model: 'enclave-sim',
        prompt: 'Once upon a time',
        max_tokens: 8,
      });
      expect(completion.object).toBe('text_completion');
      expect(completion.choices[0]!.text).toBe(direct.choices[0]!.text);
      expect(completion.usage).toEqual(direct.usage);

      const [stored] = await assistantMessages(u.userId);
      expect(stored).toMatchObject({
        content: completion.choices[0]!.text,
        outcome: 'completed',
        model: 'enclave-sim',
        promptTokens: completion.usage!.prompt_tokens,
        completionTokens: completion.usage!.completion_tokens,
        finishReason: 'length',
      });
      const [event] = await completionEvents(u.userId);
      expect(event).toMatchObject({ outcome: 'success' });
      expect(event!.payload).toMatchObject({
        endpoint: 'completions',
        model: 'enclave-sim',
        stream: false,
        promptMessages: 1,
        promptChars: 'Once upon a time'.length,
      });
    });

    it('streams a text completion, with usage when asked, and stores the same text', async () => {
      const u = await h.user('legacy-stream@example.com');
      const stream = await u.client.completions.create({
        model: 'enclave-sim',
        prompt: 'The harbor at dawn',
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        usage ??= chunk.usage;
        text += chunk.choices[0]?.text ?? '';
      }
      const plain = await u.client.completions.create({
        model: 'enclave-sim',
        prompt: 'The harbor at dawn',
      });
      expect(text).toBe(plain.choices[0]!.text);
      expect(usage).toEqual(plain.usage);

      const stored = await assistantMessages(u.userId);
      expect(stored[0]).toMatchObject({
        content: text,
        outcome: 'completed',
        completionTokens: usage!.completion_tokens,
      });
      const events = await completionEvents(u.userId);
      expect(events[0]!.payload).toMatchObject({ endpoint: 'completions', stream: true });
    });

    it('applies the same access control and limits as chat', async () => {
      const scoped = await h.user('legacy-scoped@example.com', { models: ['sim-large'] });
      await expectError(
        scoped.client.completions.create({ model: 'enclave-sim', prompt: 'hi' }),
        OpenAI.PermissionDeniedError,
      );
      await expectError(
        scoped.client.completions.create({ model: 'no-such-model', prompt: 'hi' }),
        OpenAI.PermissionDeniedError,
      );
      const u = await h.user('legacy-limited@example.com');
      await expectError(
        u.client.completions.create({ model: 'no-such-model', prompt: 'hi' }),
        OpenAI.NotFoundError,
      );
      await expectError(
        u.client.completions.create({ model: 'enclave-sim', prompt: { text: 'hi' } as never }),
        OpenAI.BadRequestError,
      );
      await setQuota(u, { requestsPerMinute: 1 });
      await u.client.completions.create({ model: 'enclave-sim', prompt: 'hi' });
      const refused = await expectError(
        u.client.completions.create({ model: 'enclave-sim', prompt: 'hi', stream: true }),
        OpenAI.RateLimitError,
      );
      expect(refused.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(refused.headers?.get('retry-after')).toMatch(/^\d+$/);
    });
  });

  describe('x-ratelimit-* headers', () => {
    it('tell the requests and tokens left, decreasing with use', async () => {
      const u = await h.user('ratelimit-headers@example.com');
      await setQuota(u, { requestsPerMinute: 1000, tokensPerDay: 100_000 });
      const call = () =>
        u.client.chat.completions.create({ model: 'enclave-sim', messages: PROMPT }).withResponse();

      let first = await call();
      let second = await call();
      const reset = (r: typeof first) =>
        Number(/^(\d+)s$/.exec(r.response.headers.get('x-ratelimit-reset-requests')!)?.[1]);
      // Both in one minute window (a pair that straddles the minute's end is taken again).
      if (reset(second) > reset(first)) {
        first = await call();
        second = await call();
      }
      const header = (r: typeof first, name: string) => r.response.headers.get(name);
      expect(header(first, 'x-ratelimit-limit-requests')).toBe('1000');
      expect(Number(header(second, 'x-ratelimit-remaining-requests'))).toBe(
        Number(header(first, 'x-ratelimit-remaining-requests')) - 1,
      );
      expect(header(first, 'x-ratelimit-limit-tokens')).toBe('100000');
      expect(Number(header(second, 'x-ratelimit-remaining-tokens'))).toBe(
        Number(header(first, 'x-ratelimit-remaining-tokens')) - first.data.usage!.total_tokens,
      );
      expect(header(first, 'x-ratelimit-reset-tokens')).toMatch(/^(\d+h)?(\d+m)?\d+s$/);

      // Streamed answers and the other endpoints carry them too.
      const stream = await u.client.chat.completions
        .create({ model: 'enclave-sim', messages: PROMPT, stream: true })
        .withResponse();
      for await (const _ of stream.data) void _;
      expect(stream.response.headers.get('x-ratelimit-remaining-requests')).toMatch(/^\d+$/);
      const text = await u.client.completions
        .create({ model: 'enclave-sim', prompt: 'hi' })
        .withResponse();
      expect(text.response.headers.get('x-ratelimit-remaining-tokens')).toMatch(/^\d+$/);
      const embedding = await u.client.embeddings
        .create({ model: 'enclave-sim', input: 'hi' })
        .withResponse();
      expect(embedding.response.headers.get('x-ratelimit-limit-requests')).toBe('1000');
      for (const streamed of [false, true]) {
        const answer = await u.client.responses
          .create({ model: 'enclave-sim', input: 'hi', stream: streamed, store: false })
          .withResponse();
        if (streamed) for await (const _ of answer.data as AsyncIterable<unknown>) void _;
        expect(answer.response.headers.get('x-ratelimit-remaining-requests')).toMatch(/^\d+$/);
      }
    });

    it('are absent when no limit applies', async () => {
      const u = await h.user('no-limits@example.com');
      const { response } = await u.client.chat.completions
        .create({ model: 'enclave-sim', messages: PROMPT })
        .withResponse();
      expect(response.headers.get('x-ratelimit-limit-requests')).toBeNull();
      expect(response.headers.get('x-ratelimit-limit-tokens')).toBeNull();
    });
  });
});
