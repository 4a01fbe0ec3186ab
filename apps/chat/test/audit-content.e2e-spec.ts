import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { RuntimePoliciesService } from '@enclave/policy';
import { ChatHarness } from '../../../test/support/chat-harness.js';

// What a `chat.completion` audit event records at each content level of the runtime policies,
// through a real chat app, the official SDK (streamed and not) and the simulator upstream.

const PROMPT: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Tell me the launch code 0000' },
];

let h: ChatHarness;
let user: Awaited<ReturnType<ChatHarness['user']>>;

beforeAll(async () => {
  h = await ChatHarness.start();
  user = await h.user('content@example.com');
});

afterAll(async () => {
  await h.stop();
});

async function lastPayload(): Promise<Record<string, unknown>> {
  const [row] = await h.dataSource.query(
    `SELECT payload FROM audit_events WHERE action = 'chat.completion' AND actor_id = $1
      ORDER BY id DESC LIMIT 1`,
    [user.userId],
  );
  return row.payload;
}

async function completeBothWays(): Promise<{
  answer: string;
  plain: Record<string, unknown>;
  streamed: Record<string, unknown>;
}> {
  const done = await user.client.chat.completions.create({
    model: 'enclave-sim',
    messages: PROMPT,
  });
  const plain = await lastPayload();
  const stream = await user.client.chat.completions.create({
    model: 'enclave-sim',
    messages: PROMPT,
    stream: true,
  });
  for await (const _chunk of stream);
  return { answer: done.choices[0]!.message.content!, plain, streamed: await lastPayload() };
}

const NONE_KEYS = [
  'cache',
  'completionTokens',
  'content',
  'conversationId',
  'endpoint',
  'errorCode',
  'latencyMs',
  'model',
  'outcome',
  'promptTokens',
  'stream',
  'ttftMs',
  'upstream',
];
const METADATA_KEYS = [
  ...NONE_KEYS,
  'answerChars',
  'finishReason',
  'promptChars',
  'promptMessages',
  'toolCalls',
].sort();

describe('chat.completion audit content per policy', () => {
  it('none: ids, model, outcome, token counts and timings only', async () => {
    await h.app.get(RuntimePoliciesService).updateNow({ auditContent: 'none' });
    const { plain, streamed } = await completeBothWays();
    for (const p of [plain, streamed]) {
      expect(Object.keys(p).sort()).toEqual(NONE_KEYS);
      expect(p).toMatchObject({ content: 'none', model: 'enclave-sim', outcome: 'completed' });
      expect(p.promptTokens).toEqual(expect.any(Number));
    }
    expect(streamed.stream).toBe(true);
  });

  it('metadata (the default): adds finish reason, counts and sizes, never the text', async () => {
    await h.app.get(RuntimePoliciesService).updateNow({ auditContent: 'metadata' });
    const { answer, plain, streamed } = await completeBothWays();
    for (const p of [plain, streamed]) {
      expect(Object.keys(p).sort()).toEqual(METADATA_KEYS);
      expect(p).toMatchObject({
        content: 'metadata',
        finishReason: 'stop',
        promptMessages: 2,
        promptChars: 'You are terse.'.length + 'Tell me the launch code 0000'.length,
        answerChars: answer.length,
        toolCalls: 0,
      });
      expect(JSON.stringify(p)).not.toContain('launch code');
    }
  });

  it('full: adds the prompt messages and the answer text', async () => {
    await h.app.get(RuntimePoliciesService).updateNow({ auditContent: 'full' });
    const { answer, plain, streamed } = await completeBothWays();
    for (const p of [plain, streamed]) {
      expect(p).toMatchObject({
        content: 'full',
        prompt: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'Tell me the launch code 0000' },
        ],
        answer,
      });
    }
  });
});
