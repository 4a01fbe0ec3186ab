import {
  MessagesRepository,
  PresetsRepository,
  PromptTemplatesRepository,
} from '@enclave/conversations';
import { RuntimePoliciesService } from '@enclave/policy';
import { ChatHarness } from '../../../test/support/chat-harness.js';

// The chat UI's conversation features (issue 21) through a real chat app, real Postgres and the
// simulator upstream: versions of answers and questions (nothing deleted), the per-conversation
// system prompt and parameters, presets and prompt templates, full-text search.

interface PathMessage {
  id: string;
  role: string;
  content: string;
  parentId: string | null;
  versionIds: string[];
}

let h: ChatHarness;
let alice: Awaited<ReturnType<ChatHarness['user']>>;
let bob: Awaited<ReturnType<ChatHarness['user']>>;

beforeAll(async () => {
  h = await ChatHarness.start();
  alice = await h.user('alice@example.com');
  bob = await h.user('bob@example.com');
  await h.app.get(RuntimePoliciesService).updateNow({ auditContent: 'full' });
});
afterAll(async () => {
  await h.stop();
});

async function api(key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${h.baseURL}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // JSON for answers, a stream of events for a streamed answer.
  const json: ReturnType<typeof JSON.parse> = text.startsWith('{') ? JSON.parse(text) : null;
  return { status: res.status, text, json };
}

async function newConversation(key: string): Promise<string> {
  const res = await api(key, 'POST', '/api/conversations', {});
  expect(res.status).toBe(201);
  return res.json.id;
}

async function send(key: string, id: string, body: object) {
  const res = await api(key, 'POST', `/api/conversations/${id}/messages`, {
    model: 'enclave-sim',
    ...body,
  });
  if (res.status === 200) expect(res.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  return res;
}

async function path(key: string, id: string): Promise<PathMessage[]> {
  const res = await api(key, 'GET', `/api/conversations/${id}`);
  expect(res.status).toBe(200);
  return res.json.messages;
}

async function storedCount(id: string): Promise<number> {
  return h.count('SELECT 1 FROM messages WHERE conversation_id = $1', [id]);
}

/** The prompt the upstream was sent for the conversation's latest answer (audit, full content). */
async function lastPrompt(conversationId: string): Promise<{ role: string; content: string }[]> {
  const [row] = await h.dataSource.query(
    `SELECT payload FROM audit_events
      WHERE action = 'chat.completion' AND payload->>'conversationId' = $1
      ORDER BY id DESC LIMIT 1`,
    [conversationId],
  );
  return row.payload.prompt;
}

describe('versions', () => {
  it('keeps the previous answer when regenerating, and switches between the versions', async () => {
    const id = await newConversation(alice.key);
    await send(alice.key, id, { content: 'Tell me a fact.' });
    const [, first] = await path(alice.key, id);
    expect((await send(alice.key, id, { regenerate: true })).status).toBe(200);

    const shown = await path(alice.key, id);
    expect(shown.map((m) => m.role)).toEqual(['user', 'assistant']);
    const second = shown[1]!;
    expect(second.id).not.toBe(first!.id);
    expect(second.versionIds).toEqual([first!.id, second.id]);
    expect(await storedCount(id)).toBe(3);

    const back = await api(alice.key, 'PUT', `/api/conversations/${id}/active-message`, {
      messageId: first!.id,
    });
    expect(back.status).toBe(200);
    expect(back.json.messages.map((m: PathMessage) => m.id)).toEqual([shown[0]!.id, first!.id]);
    expect((await path(alice.key, id))[1]!.id).toBe(first!.id);

    // Both answers are in the audit trail, and the regeneration itself.
    expect(
      await h.count(
        `SELECT 1 FROM audit_events WHERE action = 'chat.completion' AND payload->>'conversationId' = $1`,
        [id],
      ),
    ).toBe(2);
    const [regen] = await h.dataSource.query(
      `SELECT payload FROM audit_events WHERE action = 'conversation.answer.regenerated' AND target_id = $1`,
      [id],
    );
    expect(regen.payload).toEqual({ questionId: shown[0]!.id, previousAnswerId: first!.id });
  });

  it('asks the model again when regenerating, even where the cache would answer (temperature 0)', async () => {
    const id = await newConversation(alice.key);
    const set = await api(alice.key, 'PUT', `/api/conversations/${id}/settings`, {
      systemPrompt: null,
      params: { temperature: 0 },
    });
    expect(set.status).toBe(200);
    const served = () => h.sim.served['/v1/chat/completions'] ?? 0;
    const before = served();
    await send(alice.key, id, { content: 'Name a colour.' });
    expect((await send(alice.key, id, { regenerate: true })).status).toBe(200);
    expect(served()).toBe(before + 2);
    const answers: { cache_hit: boolean | null }[] = await h.dataSource.query(
      `SELECT cache_hit FROM messages WHERE conversation_id = $1 AND role = 'assistant' ORDER BY created_at`,
      [id],
    );
    expect(answers.map((a) => a.cache_hit === true)).toEqual([false, false]);
  });

  it('continues from an edited question, keeping the old branch stored', async () => {
    const id = await newConversation(alice.key);
    await send(alice.key, id, { content: 'Plan a trip to Lisbon.' });
    await send(alice.key, id, { content: 'For three days.' });
    const before = await path(alice.key, id);
    expect(before).toHaveLength(4);

    const edited = await send(alice.key, id, { content: 'For two days.', editOf: before[2]!.id });
    expect(edited.status).toBe(200);
    const after = await path(alice.key, id);
    expect(after.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(after.slice(0, 2).map((m) => m.id)).toEqual(before.slice(0, 2).map((m) => m.id));
    expect(after[2]!.content).toBe('For two days.');
    expect(after[3]!.id).not.toBe(before[3]!.id);
    expect(after[2]!.versionIds).toEqual([before[2]!.id, after[2]!.id]);
    expect(after[2]!.parentId).toBe(before[1]!.id);
    expect(await storedCount(id)).toBe(6);
    // The model saw the edited question, not the one it replaces.
    expect(await lastPrompt(id)).toEqual([
      { role: 'user', content: 'Plan a trip to Lisbon.' },
      { role: 'assistant', content: before[1]!.content },
      { role: 'user', content: 'For two days.' },
    ]);
    const [event] = await h.dataSource.query(
      `SELECT payload FROM audit_events WHERE action = 'conversation.message.edited' AND target_id = $1`,
      [after[2]!.id],
    );
    expect(event.payload).toEqual({ conversationId: id, editOf: before[2]!.id });

    // The first version and its answer are still there to switch back to.
    const back = await api(alice.key, 'PUT', `/api/conversations/${id}/active-message`, {
      messageId: before[2]!.id,
    });
    expect(back.json.messages.map((m: PathMessage) => m.id)).toEqual(before.map((m) => m.id));
  });

  it('refuses to edit what is not a question of this conversation, storing nothing', async () => {
    const id = await newConversation(alice.key);
    await send(alice.key, id, { content: 'Hello there.' });
    const [, answer] = await path(alice.key, id);
    const other = await newConversation(bob.key);
    for (const editOf of [answer!.id, '00000000-0000-4000-8000-000000000000']) {
      const res = await send(alice.key, id, { content: 'x', editOf });
      expect(res.status).toBe(404);
      expect(res.json.error).toMatchObject({ code: 'message_not_found', param: 'editOf' });
    }
    const bad = await send(alice.key, id, { regenerate: true, editOf: answer!.id });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_body');
    expect(await storedCount(id)).toBe(2);

    const foreign = await api(bob.key, 'PUT', `/api/conversations/${id}/active-message`, {
      messageId: answer!.id,
    });
    expect(foreign.status).toBe(404);
    expect(foreign.json.error.code).toBe('conversation_not_found');
    const wrong = await api(bob.key, 'PUT', `/api/conversations/${other}/active-message`, {
      messageId: answer!.id,
    });
    expect(wrong.status).toBe(404);
    expect(wrong.json.error.code).toBe('message_not_found');
  });
});

describe('system prompt and parameters of a conversation', () => {
  it('sends them with every message of the conversation', async () => {
    const id = await newConversation(alice.key);
    const set = await api(alice.key, 'PUT', `/api/conversations/${id}/settings`, {
      systemPrompt: 'You answer in three words.',
      params: { max_tokens: 3, temperature: 0.2 },
    });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({
      systemPrompt: 'You answer in three words.',
      params: { max_tokens: 3, temperature: 0.2 },
    });
    await send(alice.key, id, { content: 'Describe Lisbon.' });
    expect((await lastPrompt(id))[0]).toEqual({
      role: 'system',
      content: 'You answer in three words.',
    });
    const [answer] = await h.dataSource.query(
      `SELECT completion_tokens, finish_reason FROM messages WHERE conversation_id = $1 AND role = 'assistant'`,
      [id],
    );
    expect(answer).toEqual({ completion_tokens: 3, finish_reason: 'length' });

    const got = await api(alice.key, 'GET', `/api/conversations/${id}`);
    expect(got.json.params).toEqual({ max_tokens: 3, temperature: 0.2 });
    const cleared = await api(alice.key, 'PUT', `/api/conversations/${id}/settings`, {
      systemPrompt: '  ',
      params: {},
    });
    expect(cleared.json).toMatchObject({ systemPrompt: null, params: {} });
  });

  it('refuses bad settings and other users', async () => {
    const id = await newConversation(alice.key);
    for (const body of [
      { systemPrompt: null, params: { temperature: 5 } },
      { systemPrompt: null, params: { top_k: 3 } },
      { systemPrompt: null },
    ]) {
      const res = await api(alice.key, 'PUT', `/api/conversations/${id}/settings`, body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('invalid_body');
    }
    const foreign = await api(bob.key, 'PUT', `/api/conversations/${id}/settings`, {
      systemPrompt: 'Mine now',
      params: {},
    });
    expect(foreign.status).toBe(404);
    const [row] = await h.dataSource.query(
      'SELECT system_prompt FROM conversations WHERE id = $1',
      [id],
    );
    expect(row.system_prompt).toBeNull();
  });
});

describe('presets and prompt templates', () => {
  it("lists a user's own and the published ones, never another user's", async () => {
    const published = await h.dataSource.transaction((db) =>
      h.app.get(PresetsRepository).insert(db, {
        owner: null,
        name: 'Company tone',
        systemPrompt: 'Be formal.',
        params: {},
        createdBy: alice.userId,
      }),
    );
    const mine = await api(alice.key, 'POST', '/api/presets', {
      name: 'Creative',
      systemPrompt: 'Be playful.',
      params: { temperature: 1.5 },
    });
    expect(mine.status).toBe(201);
    expect(mine.json).toMatchObject({ name: 'Creative', shared: false });

    const list = await api(alice.key, 'GET', '/api/presets');
    expect(
      list.json.data.map((p: { name: string; shared: boolean }) => [p.name, p.shared]),
    ).toEqual([
      ['Company tone', true],
      ['Creative', false],
    ]);
    const bobs = await api(bob.key, 'GET', '/api/presets');
    expect(bobs.json.data.map((p: { id: string }) => p.id)).toEqual([published.id]);

    const again = await api(alice.key, 'POST', '/api/presets', { name: 'creative' });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'name_taken', param: 'name' });
    // A published preset cannot be deleted from the chat API, nor another user's.
    expect((await api(alice.key, 'DELETE', `/api/presets/${published.id}`)).status).toBe(404);
    expect((await api(bob.key, 'DELETE', `/api/presets/${mine.json.id}`)).status).toBe(404);
    expect((await api(alice.key, 'DELETE', `/api/presets/${mine.json.id}`)).status).toBe(204);
    expect((await api(alice.key, 'GET', '/api/presets')).json.data).toHaveLength(1);
  });

  it('keeps prompt templates per user, with names that follow /', async () => {
    await h.dataSource.transaction((db) =>
      h.app.get(PromptTemplatesRepository).insert(db, {
        owner: null,
        name: 'summary',
        content: 'Summarise the following text in five bullet points:',
        createdBy: alice.userId,
      }),
    );
    const mine = await api(alice.key, 'POST', '/api/prompt-templates', {
      name: 'translate-de',
      content: 'Translate into German:',
    });
    expect(mine.status).toBe(201);
    const bad = await api(alice.key, 'POST', '/api/prompt-templates', {
      name: 'Has Spaces',
      content: 'x',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'invalid_body', param: 'name' });
    expect(
      (
        await api(alice.key, 'POST', '/api/prompt-templates', {
          name: 'translate-de',
          content: 'y',
        })
      ).status,
    ).toBe(409);
    const names = (key: string) =>
      api(key, 'GET', '/api/prompt-templates').then((r) =>
        r.json.data.map((t: { name: string }) => t.name),
      );
    expect(await names(alice.key)).toEqual(['summary', 'translate-de']);
    expect(await names(bob.key)).toEqual(['summary']);
    expect((await api(bob.key, 'DELETE', `/api/prompt-templates/${mine.json.id}`)).status).toBe(
      404,
    );
  });
});

describe('full-text search', () => {
  let carol: Awaited<ReturnType<ChatHarness['user']>>;
  let trip: string;
  let recipes: string;
  beforeAll(async () => {
    carol = await h.user('carol@example.com');
    trip = await newConversation(carol.key);
    await send(carol.key, trip, { content: 'Which museums in Lisbon open on Mondays?' });
    recipes = await newConversation(carol.key);
    await send(carol.key, recipes, { content: 'A recipe for pastéis de nata, please.' });
    await api(carol.key, 'PATCH', `/api/conversations/${recipes}`, { title: 'Baking Portugal' });
  });

  const search = (key: string, q: string) =>
    api(key, 'GET', `/api/search?${new URLSearchParams({ q })}`);

  it('finds words of messages, by prefix, and marks them', async () => {
    const res = await search(carol.key, 'lisb mus');
    expect(res.status).toBe(200);
    expect(res.json.data).toHaveLength(1);
    const [hit] = res.json.data;
    expect(hit.conversationId).toBe(trip);
    expect(hit.message.role).toBe('user');
    const marked = hit.message.snippet
      .filter((p: { match: boolean }) => p.match)
      .map((p: { text: string }) => p.text);
    expect(marked).toEqual(['museums', 'Lisbon']);
    // Short messages come back whole (ts_headline leaves out the trailing punctuation).
    expect(hit.message.snippet.map((p: { text: string }) => p.text).join('')).toBe(
      'Which museums in Lisbon open on Mondays',
    );
  });

  it('finds titles and accented words', async () => {
    const byTitle = await search(carol.key, 'portugal');
    expect(byTitle.json.data.map((h: { conversationId: string }) => h.conversationId)).toEqual([
      recipes,
    ]);
    expect(byTitle.json.data[0].title).toEqual([
      { text: 'Baking ', match: false },
      { text: 'Portugal', match: true },
    ]);
    const accented = await search(carol.key, 'pastéis');
    expect(accented.json.data[0].conversationId).toBe(recipes);
  });

  it("never finds another user's messages", async () => {
    expect((await search(bob.key, 'lisbon museums')).json.data).toEqual([]);
  });

  it('treats operators as text and refuses an empty search', async () => {
    for (const q of ["lisbon & !museums | ' \\ :*", '(((', "o'brien"]) {
      const res = await search(carol.key, q);
      expect(res.status).toBe(200);
    }
    const empty = await search(carol.key, '   ');
    expect(empty.status).toBe(400);
    expect(empty.json.error).toMatchObject({ code: 'invalid_query', param: 'q' });
  });

  it('reads the GIN index on every monthly partition', async () => {
    const [plan] = await h.dataSource.transaction(async (db) => {
      await db.query('SET LOCAL enable_seqscan = off');
      return db.query(
        `EXPLAIN (FORMAT JSON) SELECT id FROM messages
          WHERE conversation_id IS NOT NULL
            AND to_tsvector('simple', left(content, 100000)) @@ to_tsquery('simple', 'lisbon')`,
      );
    });
    expect(JSON.stringify(plan)).toContain('Bitmap Index Scan');
    const partitions = await h.count(
      `SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'messages_search_idx'::regclass`,
    );
    const tables = await h.count(
      `SELECT 1 FROM pg_inherits WHERE inhparent = 'messages'::regclass`,
    );
    expect(partitions).toBe(tables);
  });

  it('stores a message whose words would not fit a tsvector, and finds its beginning', async () => {
    // 200,000 distinct words: about 1.4 MB of lexemes, past Postgres's 1 MB for one tsvector (an
    // answer listing numbers can get there; the index covers the first 100,000 characters).
    const words = Array.from({ length: 200_000 }, (_, i) => `n${i}`).join(' ');
    const id = await newConversation(carol.key);
    await h.dataSource.transaction((db) =>
      h.app.get(MessagesRepository).insertUserMessage(db, {
        conversationId: id,
        parentId: id,
        userId: carol.userId,
        content: `Inventory listing ${words}`,
        model: 'enclave-sim',
        requestId: null,
      }),
    );
    const res = await search(carol.key, 'inventory');
    expect(res.json.data.map((hit: { conversationId: string }) => hit.conversationId)).toEqual([
      id,
    ]);
  });
});
