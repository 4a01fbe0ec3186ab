import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { ApiKeysRepository, generateApiKey, hashPassword, UsersRepository } from '@enclave/auth';
import { UUID_PATTERN } from '@enclave/contracts';
import { DataSource } from 'typeorm';
import { ChatAppModule } from '../src/chat.module.js';
import { ConversationsRepository } from '@enclave/conversations';
import { startApp } from '../../../test/support/app.js';
import { testConfig } from '../../../test/support/config.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';

// The chat UI's conversations API on a real Postgres: CRUD, keyset pagination, title search,
// and above all that a user only ever sees their own conversations.

interface Caller {
  userId: string;
  email: string;
  auth: string;
}

interface ConversationBody {
  id: string;
  title: string;
  model: string | null;
  createdAt: string;
  updatedAt: string;
}

let db: TestDatabase;
let app: INestApplication;
let ds: DataSource;

beforeAll(async () => {
  db = await createTestDatabase();
  const config = testConfig({ DATABASE_URL: db.url });
  app = await startApp(ChatAppModule.forRoot(config), config);
  ds = app.get(DataSource);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

let emails = 0;
/** A fresh user with an API key, authenticated as `Authorization: Bearer <key>`. */
async function newUser(name = 'user'): Promise<Caller> {
  const email = `${name}-${++emails}@example.com`;
  const user = await app
    .get(UsersRepository)
    .insert(ds.manager, { email, role: 'user', passwordHash: null });
  const { key, prefix, secretHash } = generateApiKey();
  await app.get(ApiKeysRepository).insert(ds.manager, {
    userId: user.id,
    name: 'test',
    prefix,
    secretHash,
    models: null,
    expiresAt: null,
  });
  return { userId: user.id, email, auth: `Bearer ${key}` };
}

const http = () => request(app.getHttpServer());

async function create(who: Caller, body: object = {}): Promise<ConversationBody> {
  const res = await http().post('/api/conversations').set('authorization', who.auth).send(body);
  expect(res.status).toBe(201);
  return res.body;
}

async function list(who: Caller, query: Record<string, string | number> = {}) {
  return http().get('/api/conversations').query(query).set('authorization', who.auth);
}

/** Follows nextCursor to the end; the ids in the order the pages gave them, and the pages. */
async function walk(who: Caller, query: Record<string, string | number>) {
  const ids: string[] = [];
  const sizes: number[] = [];
  let cursor: string | null = null;
  do {
    const res = await list(who, cursor ? { ...query, cursor } : query);
    expect(res.status).toBe(200);
    ids.push(...res.body.data.map((c: ConversationBody) => c.id));
    sizes.push(res.body.data.length);
    cursor = res.body.nextCursor;
    if (sizes.length > 200) throw new Error('pagination does not end');
  } while (cursor);
  return { ids, sizes };
}

/** Conversations inserted directly, with chosen updated_at values. */
async function insertConversations(
  userId: string,
  rows: { title: string; updatedAt: string }[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const r of rows) {
    const [{ id }] = await ds.query(
      `INSERT INTO conversations (user_id, title, created_at, updated_at)
       VALUES ($1, $2, $3, $3) RETURNING id`,
      [userId, r.title, r.updatedAt],
    );
    ids.push(id);
  }
  return ids;
}

/** The user's conversation ids in the order the API promises, computed by Postgres. */
async function expectedOrder(userId: string): Promise<string[]> {
  const rows = await ds.query(
    'SELECT id FROM conversations WHERE user_id = $1 ORDER BY updated_at DESC, id DESC',
    [userId],
  );
  return rows.map((r: { id: string }) => r.id);
}

async function insertMessage(
  who: Caller,
  conversationId: string | null,
  m: {
    role: string;
    content: string;
    createdAt: string;
    toolCalls?: unknown[];
    /** The message it follows (see activePath). */
    parentId?: string;
  },
): Promise<string> {
  const [{ id }] = await ds.query(
    `INSERT INTO messages (conversation_id, user_id, role, content, tool_calls, model, upstream,
                           outcome, finish_reason, prompt_tokens, completion_tokens, latency_ms,
                           ttft_ms, request_id, created_at, parent_id)
     VALUES ($1, $2, $3, $4, $5::jsonb, 'enclave-sim', 'sim', 'completed', 'stop', 7, 11, 120, 30,
             'req-1', $6, $7)
     RETURNING id`,
    [
      conversationId,
      who.userId,
      m.role,
      m.content,
      m.toolCalls ? JSON.stringify(m.toolCalls) : null,
      m.createdAt,
      m.parentId ?? null,
    ],
  );
  return id;
}

async function countRows(sql: string, params: unknown[]): Promise<number> {
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM (${sql}) q`, params);
  return n;
}

describe('conversations: create, read, rename, delete', () => {
  it('goes through the whole life of a conversation', async () => {
    const alice = await newUser('alice');

    const created = await create(alice, { title: '  Budget Q3  ', model: 'enclave-sim' });
    expect(created).toEqual({
      id: expect.stringMatching(UUID_PATTERN),
      title: 'Budget Q3',
      model: 'enclave-sim',
      systemPrompt: null,
      params: {},
      activeMessageId: null,
      createdAt: expect.any(String),
      updatedAt: created.createdAt,
    });
    const [stored] = await ds.query(
      'SELECT user_id, title, model FROM conversations WHERE id = $1',
      [created.id],
    );
    expect(stored).toEqual({ user_id: alice.userId, title: 'Budget Q3', model: 'enclave-sim' });

    const untitled = await create(alice, {});
    expect(untitled).toMatchObject({ title: 'New chat', model: null });
    // No body at all is an untitled chat too.
    const bare = await http().post('/api/conversations').set('authorization', alice.auth);
    expect(bare.status).toBe(201);
    expect(bare.body.title).toBe('New chat');

    const listed = await list(alice);
    expect(listed.status).toBe(200);
    expect(listed.body.nextCursor).toBeNull();
    expect(listed.body.data.map((c: ConversationBody) => c.id).sort()).toEqual(
      [created.id, untitled.id, bare.body.id].sort(),
    );

    const read = await http()
      .get(`/api/conversations/${created.id}`)
      .set('authorization', alice.auth);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ ...created, messages: [] });

    const renamed = await http()
      .patch(`/api/conversations/${created.id}`)
      .set('authorization', alice.auth)
      .send({ title: 'Budget Q4' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({
      id: created.id,
      title: 'Budget Q4',
      model: 'enclave-sim',
    });
    expect(Date.parse(renamed.body.updatedAt)).toBeGreaterThanOrEqual(
      Date.parse(created.updatedAt),
    );
    const reread = await http()
      .get(`/api/conversations/${created.id}`)
      .set('authorization', alice.auth);
    expect(reread.body.title).toBe('Budget Q4');

    const deleted = await http()
      .delete(`/api/conversations/${created.id}`)
      .set('authorization', alice.auth);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    const gone = await http()
      .get(`/api/conversations/${created.id}`)
      .set('authorization', alice.auth);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('conversation_not_found');
    const after = await list(alice);
    expect(after.body.data.map((c: ConversationBody) => c.id)).not.toContain(created.id);
    expect(after.body.data).toHaveLength(2);
  });

  it('returns the path of messages of a conversation in order, with their public fields only', async () => {
    const bob = await newUser('bob');
    const conversation = await create(bob, { title: 'Weather' });
    const other = await create(bob, { title: 'Other' });
    const first = await insertMessage(bob, conversation.id, {
      role: 'user',
      content: 'Weather in Paris?',
      createdAt: '2025-06-01T10:00:00.000001Z',
    });
    const second = await insertMessage(bob, conversation.id, {
      role: 'assistant',
      content: '',
      createdAt: '2025-06-01T10:00:00.000002Z',
      toolCalls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather' } }],
      parentId: first,
    });
    const third = await insertMessage(bob, conversation.id, {
      role: 'assistant',
      content: 'Sunny.',
      createdAt: '2025-06-01T10:00:05Z',
      parentId: second,
    });
    // Two versions written at the same instant come in id order; the path shows the last.
    const tied = [
      await insertMessage(bob, conversation.id, {
        role: 'user',
        content: 'tie a',
        createdAt: '2025-06-01T10:00:06Z',
        parentId: third,
      }),
      await insertMessage(bob, conversation.id, {
        role: 'user',
        content: 'tie b',
        createdAt: '2025-06-01T10:00:06Z',
        parentId: third,
      }),
    ].sort();
    // Inserted earlier in time than `third` but belonging elsewhere: never shown here.
    await insertMessage(bob, other.id, {
      role: 'user',
      content: 'elsewhere',
      createdAt: '2025-06-01T10:00:03Z',
    });
    await insertMessage(bob, null, {
      role: 'assistant',
      content: 'plain API call',
      createdAt: '2025-06-01T10:00:04Z',
    });

    const res = await http()
      .get(`/api/conversations/${conversation.id}`)
      .set('authorization', bob.auth);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(conversation.id);
    expect(res.body.messages.map((m: { id: string }) => m.id)).toEqual([
      first,
      second,
      third,
      tied[1],
    ]);
    expect(res.body.messages[3].versionIds).toEqual(tied);
    expect(res.body.messages[1]).toEqual({
      id: second,
      parentId: first,
      versionIds: [second],
      role: 'assistant',
      content: '',
      toolCalls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather' } }],
      model: 'enclave-sim',
      upstream: 'sim',
      outcome: 'completed',
      finishReason: 'stop',
      promptTokens: 7,
      completionTokens: 11,
      latencyMs: 120,
      ttftMs: 30,
      createdAt: '2025-06-01T10:00:00.000Z',
    });
  });

  it('works for a signed-in session as well as an API key', async () => {
    const email = `session-${++emails}@example.com`;
    const password = 'correct horse battery staple';
    const user = await app.get(UsersRepository).insert(ds.manager, {
      email,
      role: 'user',
      passwordHash: await hashPassword(password),
    });
    const agent = request.agent(app.getHttpServer());
    const login = await agent.post('/api/auth/login').send({ email, password });
    expect(login.status).toBe(200);
    const csrf: string = login.body.csrfToken;

    const created = await agent
      .post('/api/conversations')
      .set('x-csrf-token', csrf)
      .send({ title: 'From the browser' });
    expect(created.status).toBe(201);
    const listed = await agent.get('/api/conversations');
    expect(listed.body.data.map((c: ConversationBody) => c.title)).toEqual(['From the browser']);

    const deleted = await agent
      .delete(`/api/conversations/${created.body.id}`)
      .set('x-csrf-token', csrf);
    expect(deleted.status).toBe(204);
    const [event] = await ds.query(
      `SELECT actor_type AS "actorType", actor_id AS "actorId", actor_label AS "actorLabel"
         FROM audit_events WHERE action = 'conversation.deleted' AND target_id = $1`,
      [created.body.id],
    );
    expect(event).toEqual({ actorType: 'user', actorId: user.id, actorLabel: email });
  });
});

describe('conversations: keyset pagination', () => {
  it('walks every conversation exactly once, newest first, ties broken by id', async () => {
    const carol = await newUser('carol');
    const someoneElse = await newUser('else');
    // Ties (same updated_at) and updates microseconds apart within one millisecond, which a
    // cursor rounded to milliseconds would skip.
    const rows: { title: string; updatedAt: string }[] = [];
    for (let i = 0; i < 8; i++) rows.push({ title: `tie ${i}`, updatedAt: '2025-03-01T12:00:00Z' });
    for (let i = 1; i <= 9; i++) {
      rows.push({ title: `micro ${i}`, updatedAt: `2025-03-02T08:30:00.123${i}00Z` });
    }
    for (let i = 0; i < 6; i++) {
      rows.push({ title: `day ${i}`, updatedAt: `2025-02-1${i}T09:00:00Z` });
    }
    const ids = await insertConversations(carol.userId, rows);
    await insertConversations(someoneElse.userId, [
      { title: 'not carol', updatedAt: '2025-03-01T12:00:00Z' },
    ]);
    const expected = await expectedOrder(carol.userId);
    expect([...expected].sort()).toEqual([...ids].sort());

    for (const limit of [1, 4, 5, 23, 100]) {
      const { ids: walked, sizes } = await walk(carol, { limit });
      expect(walked).toEqual(expected);
      expect(sizes).toHaveLength(Math.ceil(expected.length / limit));
      expect(sizes.slice(0, -1).every((s) => s === limit)).toBe(true);
    }

    const firstPage = await list(carol);
    expect(firstPage.body.data).toHaveLength(20);
    expect(typeof firstPage.body.nextCursor).toBe('string');
  });

  it('ends with nextCursor null on a full last page, not with an empty page', async () => {
    const dave = await newUser('dave');
    await insertConversations(
      dave.userId,
      Array.from({ length: 6 }, (_, i) => ({
        title: `c${i}`,
        updatedAt: `2025-04-0${i + 1}T00:00:00Z`,
      })),
    );
    const { sizes } = await walk(dave, { limit: 3 });
    expect(sizes).toEqual([3, 3]);
    const empty = await list(await newUser('nobody'));
    expect(empty.body).toEqual({ data: [], nextCursor: null });
  });

  it('does not repeat or skip rows when a conversation is created mid-walk', async () => {
    const erin = await newUser('erin');
    const ids = await insertConversations(
      erin.userId,
      Array.from({ length: 6 }, (_, i) => ({
        title: `c${i}`,
        updatedAt: `2025-05-0${i + 1}T00:00:00Z`,
      })),
    );
    const first = await list(erin, { limit: 3 });
    const fresh = await create(erin, { title: 'newest' });
    const second = await list(erin, { limit: 3, cursor: first.body.nextCursor });
    const seen = [...first.body.data, ...second.body.data].map((c: ConversationBody) => c.id);
    expect(seen).toEqual([...ids].reverse());
    expect(seen).not.toContain(fresh.id);
    expect(second.body.nextCursor).toBeNull();
  });
});

describe('conversations: title search', () => {
  let frank: Caller;
  const titles = [
    'Quarterly budget',
    'BUDGET review',
    'Holiday plans',
    '100% done',
    '100 percent',
    'snake_case names',
    'snakeXcase names',
    'C:\\temp paths',
    'C:temp paths',
  ];
  beforeAll(async () => {
    frank = await newUser('frank');
    await insertConversations(
      frank.userId,
      titles.map((title, i) => ({ title, updatedAt: `2025-07-01T00:00:0${i}Z` })),
    );
  });
  const search = async (q: string, extra: Record<string, string | number> = {}) => {
    const res = await list(frank, { q, ...extra });
    expect(res.status).toBe(200);
    return res.body.data.map((c: ConversationBody) => c.title);
  };

  it('finds titles containing the text, ignoring case, newest first', async () => {
    expect(await search('budget')).toEqual(['BUDGET review', 'Quarterly budget']);
    expect(await search('HOLIDAY')).toEqual(['Holiday plans']);
    expect(await search('nothing like this')).toEqual([]);
  });

  it('takes %, _ and \\ literally, not as wildcards', async () => {
    expect(await search('100%')).toEqual(['100% done']);
    expect(await search('%')).toEqual(['100% done']);
    expect(await search('snake_case')).toEqual(['snake_case names']);
    expect(await search('C:\\temp')).toEqual(['C:\\temp paths']);
  });

  it('treats an empty q as no search, and pages through matches', async () => {
    expect(await search('')).toHaveLength(titles.length);
    const { ids, sizes } = await walk(frank, { q: 'names', limit: 1 });
    expect(sizes).toEqual([1, 1]);
    expect(ids).toHaveLength(2);
  });

  it("never finds another user's conversations", async () => {
    const other = await newUser('other');
    const res = await list(other, { q: 'budget' });
    expect(res.body).toEqual({ data: [], nextCursor: null });
  });
});

describe("conversations: a user cannot reach another user's", () => {
  let alice: Caller;
  let bob: Caller;
  let bobs: ConversationBody;
  beforeAll(async () => {
    alice = await newUser('iso-alice');
    bob = await newUser('iso-bob');
    bobs = await create(bob, { title: "Bob's secret plan" });
    await insertMessage(bob, bobs.id, {
      role: 'user',
      content: 'secret',
      createdAt: '2025-08-01T00:00:00Z',
    });
  });

  const expectNotFound = (res: request.Response) => {
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({
      code: 'conversation_not_found',
      type: 'not_found_error',
    });
    expect(JSON.stringify(res.body)).not.toContain('secret');
  };

  it('does not list them', async () => {
    await create(alice, { title: 'Alice own' });
    const res = await list(alice, { limit: 100 });
    expect(res.body.data.map((c: ConversationBody) => c.title)).toEqual(['Alice own']);
    // Even with a cursor taken from Bob's own list.
    await create(bob, { title: 'Bob second' });
    const bobsPage = await list(bob, { limit: 1 });
    const withBobsCursor = await list(alice, { cursor: bobsPage.body.nextCursor });
    expect(withBobsCursor.body.data.map((c: ConversationBody) => c.title)).not.toContain(
      "Bob's secret plan",
    );
  });

  it('answers 404 conversation_not_found to read, rename and delete, like a missing id', async () => {
    const path = `/api/conversations/${bobs.id}`;
    expectNotFound(await http().get(path).set('authorization', alice.auth));
    expectNotFound(
      await http().patch(path).set('authorization', alice.auth).send({ title: 'pwned' }),
    );
    expectNotFound(await http().delete(path).set('authorization', alice.auth));

    const missing = `/api/conversations/${randomUUID()}`;
    expectNotFound(await http().get(missing).set('authorization', alice.auth));
    expectNotFound(
      await http().patch(missing).set('authorization', alice.auth).send({ title: 'x' }),
    );
    expectNotFound(await http().delete(missing).set('authorization', alice.auth));
  });

  it("leaves Bob's conversation and messages untouched", async () => {
    const res = await http().get(`/api/conversations/${bobs.id}`).set('authorization', bob.auth);
    expect(res.status).toBe(200);
    expect(res.body.title).toBe("Bob's secret plan");
    expect(res.body.updatedAt).toBe(bobs.updatedAt);
    expect(res.body.messages.map((m: { content: string }) => m.content)).toEqual(['secret']);
    expect(
      await countRows(
        "SELECT 1 FROM audit_events WHERE action = 'conversation.deleted' AND target_id = $1",
        [bobs.id],
      ),
    ).toBe(0);
  });
});

describe('conversations: refused requests', () => {
  let grace: Caller;
  let mine: ConversationBody;
  beforeAll(async () => {
    grace = await newUser('grace');
    mine = await create(grace, { title: 'Mine' });
  });

  it('answers 401 without credentials, and with a wrong key', async () => {
    const id = mine.id;
    const calls = [
      http().get('/api/conversations'),
      http().post('/api/conversations').send({ title: 'x' }),
      http().get(`/api/conversations/${id}`),
      http().patch(`/api/conversations/${id}`).send({ title: 'x' }),
      http().delete(`/api/conversations/${id}`),
    ];
    for (const call of calls) {
      const res = await call;
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('missing_credentials');
    }
    const forged = await http()
      .get('/api/conversations')
      .set('authorization', `Bearer ${generateApiKey().key}`);
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('invalid_api_key');
    expect(await countRows('SELECT 1 FROM conversations WHERE id = $1', [id])).toBe(1);
  });

  it('answers 400 invalid_id to an id that is not a UUID', async () => {
    for (const bad of ['123', 'not-a-uuid', `${mine.id}x`, "1' OR '1'='1"]) {
      const path = `/api/conversations/${encodeURIComponent(bad)}`;
      for (const res of [
        await http().get(path).set('authorization', grace.auth),
        await http().patch(path).set('authorization', grace.auth).send({ title: 'x' }),
        await http().delete(path).set('authorization', grace.auth),
      ]) {
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('invalid_id');
      }
    }
  });

  it('answers 400 invalid_query to a bad limit or an unknown parameter', async () => {
    const badQueries: Record<string, string | number>[] = [
      { limit: 0 },
      { limit: 101 },
      { limit: -1 },
      { limit: 'ten' },
      { limit: '1.5' },
      { limit: '' },
      { q: 'x'.repeat(201) },
      { page: 2 },
    ];
    for (const query of badQueries) {
      const res = await list(grace, query);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_query');
    }
    const twice = await http()
      .get('/api/conversations?limit=1&limit=2')
      .set('authorization', grace.auth);
    expect(twice.status).toBe(400);
    expect(twice.body.error.code).toBe('invalid_query');
    expect((await list(grace, { limit: 100 })).status).toBe(200);
  });

  it('answers 400 invalid_cursor to a cursor it did not hand out', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const cursor of [
      'garbage!',
      '',
      b64('just a string'),
      b64({ updatedAt: '2025-01-01T00:00:00.000000Z' }),
      b64({ updatedAt: '2025-01-01T00:00:00.000000Z', id: 'nope' }),
      b64({ updatedAt: 'yesterday', id: randomUUID() }),
      b64({ updatedAt: '2025-02-30T00:00:00.000000Z', id: randomUUID() }),
      'A'.repeat(1000),
    ]) {
      const res = await list(grace, { cursor });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_cursor');
    }
  });

  it('answers 400 invalid_body to a bad title or an unknown field', async () => {
    const bodies = [
      { title: '' },
      { title: '   ' },
      { title: 'x'.repeat(201) },
      { title: 42 },
      { title: 'ok', owner: 'someone else' },
      { model: '' },
    ];
    for (const body of bodies) {
      const res = await http()
        .post('/api/conversations')
        .set('authorization', grace.auth)
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_body');
    }
    for (const body of [{}, { title: '' }, { title: 'ok', model: 'x' }]) {
      const res = await http()
        .patch(`/api/conversations/${mine.id}`)
        .set('authorization', grace.auth)
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_body');
    }
    expect((await create(grace, { title: 'x'.repeat(200) })).title).toHaveLength(200);
    const [row] = await ds.query('SELECT title FROM conversations WHERE id = $1', [mine.id]);
    expect(row.title).toBe('Mine');
  });
});

describe('conversations: deleting', () => {
  it('removes the messages with the conversation and leaves one audit event', async () => {
    const henry = await newUser('henry');
    const doomed = await create(henry, { title: 'Doomed' });
    const kept = await create(henry, { title: 'Kept' });
    for (const [i, role] of ['user', 'assistant', 'user'].entries()) {
      await insertMessage(henry, doomed.id, {
        role,
        content: `m${i}`,
        createdAt: `2025-09-01T00:00:0${i}Z`,
      });
    }
    await insertMessage(henry, kept.id, {
      role: 'user',
      content: 'keep me',
      createdAt: '2025-09-01T00:00:00Z',
    });

    const res = await http()
      .delete(`/api/conversations/${doomed.id}`)
      .set('authorization', henry.auth)
      .set('x-request-id', 'delete-req-1');
    expect(res.status).toBe(204);

    expect(await countRows('SELECT 1 FROM messages WHERE conversation_id = $1', [doomed.id])).toBe(
      0,
    );
    expect(await countRows('SELECT 1 FROM conversations WHERE id = $1', [doomed.id])).toBe(0);
    expect(await countRows('SELECT 1 FROM messages WHERE conversation_id = $1', [kept.id])).toBe(1);

    const events = await ds.query(
      `SELECT actor_type AS "actorType", actor_id AS "actorId", target_type AS "targetType",
              outcome, request_id AS "requestId", payload
         FROM audit_events WHERE action = 'conversation.deleted' AND target_id = $1`,
      [doomed.id],
    );
    expect(events).toEqual([
      {
        actorType: 'api_key',
        actorId: henry.userId,
        targetType: 'conversation',
        outcome: 'success',
        requestId: 'delete-req-1',
        payload: { messages: 3 },
      },
    ]);

    const again = await http()
      .delete(`/api/conversations/${doomed.id}`)
      .set('authorization', henry.auth);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('conversation_not_found');
    expect(
      await countRows(
        "SELECT 1 FROM audit_events WHERE action = 'conversation.deleted' AND target_id = $1",
        [doomed.id],
      ),
    ).toBe(1);
  });
});

describe('ConversationsRepository, as the completion engine uses it', () => {
  it("getForUser finds only the owner's conversation and touch() moves it to the top", async () => {
    const repo = app.get(ConversationsRepository);
    const ivy = await newUser('ivy');
    const jack = await newUser('jack');
    const [older, newer] = await insertConversations(ivy.userId, [
      { title: 'older', updatedAt: '2025-10-01T00:00:00Z' },
      { title: 'newer', updatedAt: '2025-10-02T00:00:00Z' },
    ]);

    expect(await repo.getForUser(older!, ivy.userId)).toMatchObject({ id: older, title: 'older' });
    expect(await repo.getForUser(older!, jack.userId)).toBeNull();
    expect(await repo.getForUser(randomUUID(), ivy.userId)).toBeNull();
    expect(await repo.getForUser('not-a-uuid', ivy.userId)).toBeNull();

    expect((await list(ivy)).body.data.map((c: ConversationBody) => c.id)).toEqual([newer, older]);
    await ds.transaction((db) => repo.touch(db, older!));
    expect((await list(ivy)).body.data.map((c: ConversationBody) => c.id)).toEqual([older, newer]);
  });
});
