import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AdminAppModule } from '../src/admin.module.js';
import { startApp } from '../../../test/support/app.js';
import {
  auditSince,
  createUser,
  lastAuditId,
  signIn,
  type BrowserSession,
} from '../../../test/support/auth.js';
import { ChatHarness } from '../../../test/support/chat-harness.js';

// Admins and auditors find conversations by their metadata; reading one takes a reason and
// leaves an audit event naming it, the conversation and its owner.

interface Summary {
  id: string;
  userId: string;
  userEmail: string;
  model: string | null;
  messageCount: number;
}

describe('admin: conversations', () => {
  let h: ChatHarness;
  let admin: INestApplication;
  let adminKey: string;
  let userKey: string;
  let auditor: BrowserSession;
  let auditorId: string;
  let alice: string;
  let bob: string;
  /** Alice's conversation about the budget (3 messages). */
  let budget: string;

  const api = () => request(admin.getHttpServer());
  const list = (key: string, query: Record<string, string> = {}) =>
    api().get('/api/admin/conversations').query(query).set('authorization', `Bearer ${key}`);
  const openAs = (s: BrowserSession, id: string, body: unknown) =>
    api()
      .post(`/api/admin/conversations/${id}/open`)
      .set('Cookie', s.cookie)
      .set('x-csrf-token', s.csrf)
      .send(body as object);

  async function conversation(userId: string, title: string, at: string, texts: string[]) {
    const [{ id }] = await h.dataSource.query(
      `INSERT INTO conversations (user_id, title, model, created_at, updated_at)
       VALUES ($1, $2, 'enclave-sim', $3, $3) RETURNING id`,
      [userId, title, at],
    );
    for (const [i, text] of texts.entries()) {
      await h.dataSource.query(
        `INSERT INTO messages (conversation_id, user_id, role, content, model, outcome, created_at)
         VALUES ($1, $2, $3, $4, 'enclave-sim', $5, $6::timestamptz + $7 * interval '1 second')`,
        [id, userId, i % 2 ? 'assistant' : 'user', text, i % 2 ? 'completed' : null, at, i],
      );
    }
    return id as string;
  }

  beforeAll(async () => {
    h = await ChatHarness.start();
    admin = await startApp(AdminAppModule.forRoot(h.config), h.config);
    adminKey = (await h.user('root@example.com', { role: 'admin' })).key;
    userKey = (await h.user('nosy@example.com')).key;
    auditorId = (await createUser(admin, 'auditor@example.com', 'auditor')).id;
    auditor = await signIn(admin, 'auditor@example.com');
    alice = (await h.user('alice@example.com')).userId;
    bob = (await h.user('bob@example.com')).userId;
    budget = await conversation(alice, 'Budget 2027', '2026-05-01T09:00:00Z', [
      'What is the travel budget?',
      'It is 12,000 EUR.',
      'And for training?',
    ]);
    await conversation(alice, 'Holiday plans', '2026-05-02T09:00:00Z', ['Where to go?']);
    await conversation(bob, 'Server outage', '2026-05-03T09:00:00Z', ['Why is it down?', 'DNS.']);
  });
  afterAll(async () => {
    await admin.close();
    await h.stop();
  });

  it('lists conversations newest first with metadata and never content, titles included', async () => {
    const res = await list(adminKey).expect(200);
    const data = res.body.data as Summary[];
    expect(data.map((c) => [c.userEmail, c.messageCount])).toEqual([
      ['bob@example.com', 2],
      ['alice@example.com', 1],
      ['alice@example.com', 3],
    ]);
    expect(Object.keys(data[0]!).sort()).toEqual([
      'createdAt',
      'id',
      'messageCount',
      'model',
      'updatedAt',
      'userEmail',
      'userId',
    ]);
    for (const content of ['12,000', 'Budget', 'Holiday', 'Server outage']) {
      expect(JSON.stringify(res.body)).not.toContain(content);
    }
    expect(res.body.nextBefore).toBeNull();
  });

  it('searches owners but never titles, filters by user, and pages with nextBefore', async () => {
    // A title is the start of the first message: matching it would reveal content unopened.
    for (const q of ['budget', 'Budget 2027', 'outage']) {
      expect((await list(adminKey, { q }).expect(200)).body.data).toEqual([]);
    }
    const byEmail = (await list(adminKey, { q: 'BOB@' }).expect(200)).body.data as Summary[];
    expect(byEmail.map((c) => c.userEmail)).toEqual(['bob@example.com']);
    const byUser = (await list(adminKey, { userId: alice }).expect(200)).body.data as Summary[];
    expect(byUser.map((c) => c.messageCount)).toEqual([1, 3]);
    const literal = (await list(adminKey, { q: '%' }).expect(200)).body.data as Summary[];
    expect(literal).toEqual([]);

    const first = await list(adminKey, { limit: '2' }).expect(200);
    expect(first.body.data).toHaveLength(2);
    const second = await list(adminKey, { limit: '2', before: first.body.nextBefore }).expect(200);
    expect((second.body.data as Summary[]).map((c) => c.id)).toEqual([budget]);
    expect(second.body.nextBefore).toBeNull();
  });

  it('opens a conversation for an auditor with a reason, audited with the owner', async () => {
    const since = await lastAuditId(h.dataSource);
    const reason = 'Ticket SEC-42: suspected data leak';
    const res = await openAs(auditor, budget, { reason }).expect(200);
    expect(res.body.conversation).toMatchObject({
      id: budget,
      title: 'Budget 2027',
      userId: alice,
      messageCount: 3,
    });
    expect(
      (res.body.messages as { role: string; content: string }[]).map((m) => [m.role, m.content]),
    ).toEqual([
      ['user', 'What is the travel budget?'],
      ['assistant', 'It is 12,000 EUR.'],
      ['user', 'And for training?'],
    ]);
    expect(res.body.messages[1]).toMatchObject({ model: 'enclave-sim', outcome: 'completed' });

    const events = await auditSince(h.dataSource, since, 'admin.conversation.opened');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actorType: 'user',
      actorId: auditorId,
      actorLabel: 'auditor@example.com',
      targetType: 'conversation',
      targetId: budget,
      outcome: 'success',
      payload: { reason, ownerId: alice, ownerEmail: 'alice@example.com', messages: 3 },
    });
  });

  it('refuses without a reason, for unknown or malformed ids, and for plain users', async () => {
    const since = await lastAuditId(h.dataSource);
    for (const body of [{}, { reason: 'why' }, { reason: '     x    ' }, { reason: 5 }]) {
      const res = await openAs(auditor, budget, body).expect(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_body', param: 'reason' });
    }
    const missing = await openAs(auditor, '00000000-0000-4000-8000-000000000000', {
      reason: 'Ticket SEC-43',
    }).expect(404);
    expect(missing.body.error.code).toBe('conversation_not_found');
    const bad = await openAs(auditor, 'not-a-uuid', { reason: 'Ticket SEC-43' }).expect(400);
    expect(bad.body.error.code).toBe('invalid_id');
    const user = await api()
      .post(`/api/admin/conversations/${budget}/open`)
      .set('authorization', `Bearer ${userKey}`)
      .send({ reason: 'I am curious' })
      .expect(403);
    expect(user.body.error.code).toBe('forbidden');
    expect((await list(userKey).expect(403)).body.error.code).toBe('forbidden');
    expect(await auditSince(h.dataSource, since, 'admin.conversation.opened')).toEqual([]);

    for (const [query, code] of [
      [{ limit: '0' }, 'invalid_query'],
      [{ userId: 'alice' }, 'invalid_query'],
      [{ before: 'bm90IGEgY3Vyc29y' }, 'invalid_cursor'],
    ] as const) {
      expect((await list(adminKey, query).expect(400)).body.error.code).toBe(code);
    }
  });
});
