import { notifyConfigChanged } from '@enclave/db';
import { PolicyService, QuotasRepository } from '@enclave/policy';
import { ChatHarness } from '../../../test/support/chat-harness.js';

// Talking inside a conversation, as the chat UI does: the server keeps the history.

interface Sent {
  status: number;
  text: string;
}

describe('chatting in a conversation', () => {
  let h: ChatHarness;
  let alice: Awaited<ReturnType<ChatHarness['user']>>;
  let bob: Awaited<ReturnType<ChatHarness['user']>>;
  beforeAll(async () => {
    h = await ChatHarness.start();
    alice = await h.user('alice@example.com');
    bob = await h.user('bob@example.com');
  });
  afterAll(async () => {
    await h.stop();
  });

  async function api(key: string, method: string, path: string, body?: unknown) {
    return fetch(`${h.baseURL}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function send(key: string, id: string, body: unknown): Promise<Sent> {
    const res = await api(key, 'POST', `/api/conversations/${id}/messages`, body);
    return { status: res.status, text: await res.text() };
  }

  function streamedText(sse: string): string {
    return sse
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)).choices?.[0]?.delta?.content ?? '')
      .join('');
  }

  async function messagesOf(id: string) {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const rows = await h.dataSource.query(
        `SELECT id, role, content, outcome FROM messages WHERE conversation_id = $1 ORDER BY created_at, id`,
        [id],
      );
      if (
        rows.every((r: { outcome: string }) => r.outcome !== 'in_progress') ||
        Date.now() > deadline
      ) {
        return rows;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function newConversation(key: string): Promise<string> {
    const res = await api(key, 'POST', '/api/conversations', {});
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  it('streams the answer, stores both turns, and titles the conversation from the first message', async () => {
    const id = await newConversation(alice.key);
    const first = await send(alice.key, id, {
      model: 'enclave-sim',
      content: 'Plan a trip to Lisbon\nwith kids',
    });
    expect(first.status).toBe(200);
    expect(first.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const answer1 = streamedText(first.text);
    expect(answer1.length).toBeGreaterThan(0);

    const second = await send(alice.key, id, {
      model: 'enclave-sim',
      content: 'And for two days?',
    });
    expect(second.status).toBe(200);

    const rows = await messagesOf(id);
    expect(rows.map((r: { role: string }) => r.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
    expect(rows[1]).toMatchObject({ content: answer1, outcome: 'completed' });
    expect(rows[3].content).toBe(streamedText(second.text));

    const conv = (await (await api(alice.key, 'GET', `/api/conversations/${id}`)).json()) as {
      title: string;
    };
    expect(conv.title).toBe('Plan a trip to Lisbon');
  });

  it('regenerates the last answer as a new version, keeping the old one', async () => {
    const id = await newConversation(alice.key);
    await send(alice.key, id, { model: 'enclave-sim', content: 'Tell me a fact.' });
    const before = await messagesOf(id);
    const again = await send(alice.key, id, { model: 'enclave-sim', regenerate: true });
    expect(again.status).toBe(200);
    const after = await messagesOf(id);
    expect(after.map((r: { role: string }) => r.role)).toEqual(['user', 'assistant', 'assistant']);
    expect(after.slice(0, 2)).toEqual(before);
  });

  it("answers 404 for another user's conversation and stores nothing", async () => {
    const id = await newConversation(alice.key);
    const res = await send(bob.key, id, { model: 'enclave-sim', content: 'Let me in.' });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.text).error.code).toBe('conversation_not_found');
    expect(await messagesOf(id)).toEqual([]);
  });

  it('refuses bad input with 400', async () => {
    const id = await newConversation(alice.key);
    for (const body of [
      { model: 'enclave-sim' },
      { model: 'enclave-sim', content: 'x', regenerate: true },
      { content: 'x' },
    ]) {
      const res = await send(alice.key, id, body);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).error.code).toBe('invalid_body');
    }
    const none = await send(alice.key, id, { model: 'enclave-sim', regenerate: true });
    expect(JSON.parse(none.text).error.code).toBe('nothing_to_regenerate');
  });

  it('keeps the history untouched when the quota refuses the message', async () => {
    const carol = await h.user('carol@example.com');
    const id = await newConversation(carol.key);
    await h.dataSource.transaction(async (db) => {
      await h.app.get(QuotasRepository).upsert(db, {
        scope: 'user',
        subjectId: carol.userId,
        requestsPerMinute: null,
        tokensPerDay: 1,
        tokensPerMonth: null,
      });
      await notifyConfigChanged(db, 'policies');
    });
    await h.app.get(PolicyService).reload();
    await send(carol.key, id, { model: 'enclave-sim', content: 'First.' });
    await messagesOf(id); // its tokens are accounted when the answer is stored
    const refused = await send(carol.key, id, { model: 'enclave-sim', content: 'Second.' });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).error.code).toBe('quota_exceeded');
    expect((await messagesOf(id)).map((r: { content: string; role: string }) => r.role)).toEqual([
      'user',
      'assistant',
    ]);
  });
});
