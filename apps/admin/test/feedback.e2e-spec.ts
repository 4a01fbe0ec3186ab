import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AdminAppModule } from '../src/admin.module.js';
import { startApp } from '../../../test/support/app.js';
import { ChatHarness } from '../../../test/support/chat-harness.js';

// What staff said about the answers, as admins and auditors see it: filtered, newest first,
// paged, and out of reach for everyone else.

interface Listed {
  id: string;
  messageId: string;
  conversationId: string | null;
  userEmail: string;
  rating: string;
  comment: string | null;
  model: string | null;
  backend: string | null;
  createdAt: string;
}

describe('admin: feedback', () => {
  let h: ChatHarness;
  let admin: INestApplication;
  let adminKey: string;
  let auditorKey: string;
  let userKey: string;

  /** Feedback rows as if given in the chat UI at the given times. */
  async function given(
    userId: string,
    rows: { rating: 'up' | 'down'; model: string; comment?: string; at: string }[],
  ) {
    const [{ id: conversationId }] = await h.dataSource.query(
      `INSERT INTO conversations (user_id, title) VALUES ($1, 'c') RETURNING id`,
      [userId],
    );
    for (const r of rows) {
      const [{ id: messageId }] = await h.dataSource.query(
        `INSERT INTO messages (conversation_id, user_id, role, content, model, upstream, outcome)
         VALUES ($1, $2, 'assistant', 'an answer', $3, 'gpu-1', 'completed') RETURNING id`,
        [conversationId, userId, r.model],
      );
      await h.dataSource.query(
        `INSERT INTO feedback (message_id, user_id, rating, comment, model, backend, created_at)
         VALUES ($1, $2, $3, $4, $5, 'gpu-1', $6)`,
        [messageId, userId, r.rating, r.comment ?? null, r.model, r.at],
      );
    }
  }

  const list = (key: string, query: Record<string, string> = {}) =>
    request(admin.getHttpServer())
      .get('/api/admin/feedback')
      .query(query)
      .set('authorization', `Bearer ${key}`);

  beforeAll(async () => {
    h = await ChatHarness.start();
    admin = await startApp(AdminAppModule.forRoot(h.config), h.config);
    adminKey = (await h.user('root@example.com', { role: 'admin' })).key;
    auditorKey = (await h.user('auditor@example.com', { role: 'auditor' })).key;
    const staff = await h.user('staff@example.com');
    userKey = staff.key;
    const other = await h.user('other@example.com');
    await given(staff.userId, [
      { rating: 'up', model: 'enclave-sim', at: '2026-03-01T10:00:00Z' },
      { rating: 'down', model: 'enclave-sim', comment: 'wrong date', at: '2026-03-02T10:00:00Z' },
      { rating: 'down', model: 'sim-large', at: '2026-03-03T23:59:00Z' },
    ]);
    await given(other.userId, [{ rating: 'up', model: 'sim-large', at: '2026-03-04T08:00:00Z' }]);
  });
  afterAll(async () => {
    await admin.close();
    await h.stop();
  });

  it('lists every feedback newest first, with who gave it, the model and the backend', async () => {
    const res = await list(adminKey).expect(200);
    const data = res.body.data as Listed[];
    expect(data.map((f) => [f.createdAt.slice(0, 10), f.rating, f.model, f.userEmail])).toEqual([
      ['2026-03-04', 'up', 'sim-large', 'other@example.com'],
      ['2026-03-03', 'down', 'sim-large', 'staff@example.com'],
      ['2026-03-02', 'down', 'enclave-sim', 'staff@example.com'],
      ['2026-03-01', 'up', 'enclave-sim', 'staff@example.com'],
    ]);
    expect(data[2]).toMatchObject({ comment: 'wrong date', backend: 'gpu-1' });
    expect(data[2]!.conversationId).toEqual(expect.any(String));
    expect(res.body.nextCursor).toBeNull();
  });

  it('filters by rating, model and a range of days (both days included)', async () => {
    const down = (await list(auditorKey, { rating: 'down' }).expect(200)).body.data as Listed[];
    expect(down.map((f) => f.createdAt.slice(0, 10))).toEqual(['2026-03-03', '2026-03-02']);

    const large = (await list(adminKey, { model: 'sim-large', rating: 'down' }).expect(200)).body
      .data as Listed[];
    expect(large.map((f) => f.createdAt.slice(0, 10))).toEqual(['2026-03-03']);

    const days = (await list(adminKey, { from: '2026-03-02', to: '2026-03-03' }).expect(200)).body
      .data as Listed[];
    expect(days.map((f) => f.createdAt.slice(0, 10))).toEqual(['2026-03-03', '2026-03-02']);

    const exact = (
      await list(adminKey, { from: '2026-03-02T10:00:00Z', to: '2026-03-03T23:59:00Z' }).expect(200)
    ).body.data as Listed[];
    expect(exact.map((f) => f.createdAt.slice(0, 10))).toEqual(['2026-03-02']);
  });

  it('pages with limit and nextCursor without skipping or repeating', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = { limit: '3' };
      if (cursor) query.cursor = cursor;
      const res = await list(adminKey, query).expect(200);
      seen.push(...(res.body.data as Listed[]).map((f) => f.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    const all = (await list(adminKey).expect(200)).body.data as Listed[];
    expect(seen).toEqual(all.map((f) => f.id));
  });

  it('is for admins and auditors only', async () => {
    const res = await list(userKey).expect(403);
    expect(res.body.error.code).toBe('forbidden');
    await request(admin.getHttpServer()).get('/api/admin/feedback').expect(401);
  });

  it('says which query parameter is wrong', async () => {
    for (const [query, param] of [
      [{ rating: 'meh' }, 'rating'],
      [{ from: 'yesterday' }, 'from'],
      [{ limit: '0' }, 'limit'],
      [{ sort: 'asc' }, null],
    ] as const) {
      const res = await list(adminKey, query as Record<string, string>).expect(400);
      expect(res.body.error.code).toBe('invalid_query');
      if (param) expect(res.body.error.param).toBe(param);
    }
    const bad = await list(adminKey, { cursor: 'bm90IGEgY3Vyc29y' }).expect(400);
    expect(bad.body.error.code).toBe('invalid_cursor');
  });
});
