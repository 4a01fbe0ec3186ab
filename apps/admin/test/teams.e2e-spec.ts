import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { UpstreamPool } from '@enclave/llm';
import { Entitlements, UsageBuffer } from '@enclave/policy';
import { AdminAppModule } from '../src/admin.module.js';
import { startApp } from '../../../test/support/app.js';
import {
  auditSince,
  credentials,
  lastAuditId,
  sessionCredential,
} from '../../../test/support/auth.js';
import { ChatHarness } from '../../../test/support/chat-harness.js';
import { openaiClient } from '../../../test/support/openai.js';

// Teams (issue 20) through the real admin API and two chat instances on one Postgres, with the
// official openai SDK as the client: groups, model access by group, prices and cost, budgets
// in tokens and money, usage reports, and a usage history that outlives deleted conversations.

describe('teams: groups, model access, prices, budgets and usage', () => {
  let h: ChatHarness;
  let second: INestApplication;
  let admin: INestApplication;
  let adminSession: string;
  let auditorSession: string;
  let legal: Awaited<ReturnType<ChatHarness['user']>>;
  let intern: Awaited<ReturnType<ChatHarness['user']>>;
  let legalGroupId: string;

  const api = () => request(admin.getHttpServer());
  const as = credentials;

  /** Every chat instance picks admin changes up (the notice would do it within 1 s). */
  async function reloadChats() {
    await Promise.all([h.app, second].map((app) => app.get(Entitlements).reload()));
  }
  async function flushUsage() {
    await Promise.all([h.app, second].map((app) => app.get(UsageBuffer).flush()));
  }

  beforeAll(async () => {
    h = await ChatHarness.start();
    second = await h.secondInstance();
    admin = await startApp(AdminAppModule.forRoot(h.config), h.config);
    adminSession = await sessionCredential(
      h.app,
      (await h.user('root@example.com', { role: 'admin' })).userId,
    );
    auditorSession = await sessionCredential(
      h.app,
      (await h.user('auditor@example.com', { role: 'auditor' })).userId,
    );
    legal = await h.user('lawyer@example.com');
    intern = await h.user('intern@example.com');
  });
  afterAll(async () => {
    await admin.close();
    await h.stop();
  });

  it('creates groups and manages members, each change audited; names are unique', async () => {
    const since = await lastAuditId(h.dataSource);
    const created = await api()
      .post('/api/admin/groups')
      .set(as(adminSession))
      .send({ name: 'Legal', description: 'The legal department' })
      .expect(201);
    legalGroupId = created.body.id;
    expect(created.body).toMatchObject({ name: 'Legal', memberCount: 0 });

    const taken = await api()
      .post('/api/admin/groups')
      .set(as(adminSession))
      .send({ name: 'legal' })
      .expect(409);
    expect(taken.body.error.code).toBe('group_name_taken');

    await api()
      .put(`/api/admin/groups/${legalGroupId}/members/${legal.userId}`)
      .set(as(adminSession))
      .expect(204);
    const interns = await api()
      .post('/api/admin/groups')
      .set(as(adminSession))
      .send({ name: 'Interns' })
      .expect(201);
    await api()
      .put(`/api/admin/groups/${interns.body.id}/members/${intern.userId}`)
      .set(as(adminSession))
      .expect(204);

    const detail = await api()
      .get(`/api/admin/groups/${legalGroupId}`)
      .set(as(auditorSession))
      .expect(200);
    expect(detail.body.members).toEqual([
      expect.objectContaining({ userId: legal.userId, email: 'lawyer@example.com', via: 'manual' }),
    ]);
    // Auditors read, and change nothing.
    await api()
      .post('/api/admin/groups')
      .set(as(auditorSession))
      .send({ name: 'Sneaky' })
      .expect(403);
    const missing = await api()
      .put(`/api/admin/groups/${legalGroupId}/members/00000000-0000-4000-8000-000000000000`)
      .set(as(adminSession))
      .expect(404);
    expect(missing.body.error.code).toBe('user_not_found');

    const actions = (await auditSince(h.dataSource, since))
      .map((e) => e.action)
      .filter((a) => a.startsWith('admin.'));
    expect(actions).toEqual([
      'admin.group.created',
      'admin.group.member_added',
      'admin.group.created',
      'admin.group.member_added',
    ]);
  });

  it('restricts a model to a group on /v1/models and /v1/chat/completions (403 naming the group)', async () => {
    await api()
      .put('/api/admin/model-access')
      .set(as(adminSession))
      .send({ model: 'sim-large', groupIds: [legalGroupId] })
      .expect(200);
    await reloadChats();

    const listed = async (client: typeof legal.client) =>
      (await client.models.list()).data.map((m) => m.id).sort();
    expect(await listed(legal.client)).toEqual(['enclave-sim', 'sim-large']);
    expect(await listed(intern.client)).toEqual(['enclave-sim']);

    const ok = await legal.client.chat.completions.create({
      model: 'sim-large',
      messages: [{ role: 'user', content: 'Draft a contract.' }],
    });
    expect(ok.choices[0]!.message.content).toBeTruthy();

    for (const url of [h.baseURL, ChatHarness.urlOf(second)]) {
      const client = openaiClient(`${url}/v1`, intern.key);
      const err = await client.chat.completions
        .create({ model: 'sim-large', messages: [{ role: 'user', content: 'Hi' }] })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 403, code: 'model_not_allowed' });
      expect((err as Error).message).toContain('Legal');
    }

    const entitlements = await api()
      .get('/api/admin/model-entitlements')
      .set(as(auditorSession))
      .expect(200);
    expect(entitlements.body.models).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ model: 'sim-large', groupIds: [legalGroupId] }),
        expect.objectContaining({ model: 'enclave-sim', groupIds: [] }),
      ]),
    );
  });

  it('never lets an API key widen access: a key scoped to a group model is still refused', async () => {
    const widened = await h.user('widen@example.com', { models: ['sim-large'] });
    await reloadChats();
    expect((await widened.client.models.list()).data).toEqual([]);
    const err = await widened.client.chat.completions
      .create({ model: 'sim-large', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, code: 'model_not_allowed' });

    // And a Legal member's key scoped to the small model narrows them.
    const narrowed = await h.user('narrow@example.com', { models: ['enclave-sim'] });
    await api()
      .put(`/api/admin/groups/${legalGroupId}/members/${narrowed.userId}`)
      .set(as(adminSession))
      .expect(204);
    await reloadChats();
    expect((await narrowed.client.models.list()).data.map((m) => m.id)).toEqual(['enclave-sim']);
    const narrowErr = await narrowed.client.chat.completions
      .create({ model: 'sim-large', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(narrowErr).toMatchObject({ status: 403, code: 'model_not_allowed' });
  });

  it('stores each request with its cost at the price in force; a price change is audited and rewrites nothing', async () => {
    const since = await lastAuditId(h.dataSource);
    await api()
      .put('/api/admin/prices')
      .set(as(adminSession))
      .send({ model: 'enclave-sim', inputPerMillion: 1000, outputPerMillion: 2000 })
      .expect(200);
    await reloadChats();
    const priced = await h.user('priced@example.com');
    const first = await priced.client.chat.completions.create({
      model: 'enclave-sim',
      messages: [{ role: 'user', content: 'What does it cost?' }],
    });
    await flushUsage();
    const expected =
      (first.usage!.prompt_tokens * 1000 + first.usage!.completion_tokens * 2000) / 1e6;
    const costs = async () =>
      (
        await h.dataSource.query(
          'SELECT cost::float8 AS cost, currency FROM usage_events WHERE user_id = $1 ORDER BY id',
          [priced.userId],
        )
      ).map((r: { cost: number; currency: string }) => [r.cost, r.currency]);
    expect(await costs()).toEqual([[expected, 'EUR']]);

    // Embeddings through an alias cost what the model it names costs.
    await api()
      .put('/api/admin/aliases/house-model')
      .set(as(adminSession))
      .send({ model: 'enclave-sim' })
      .expect(204);
    await Promise.all([h.app, second].map((app) => app.get(UpstreamPool).reload()));
    const embedder = await h.user('embedder@example.com');
    const embedded = await embedder.client.embeddings.create({
      model: 'house-model',
      input: 'What does a vector cost?',
    });
    await flushUsage();
    const [embeddingUsage] = await h.dataSource.query(
      'SELECT model, cost::float8 AS cost FROM usage_events WHERE user_id = $1',
      [embedder.userId],
    );
    expect(embedded.usage.prompt_tokens).toBeGreaterThan(0);
    expect(embeddingUsage).toEqual({
      model: 'house-model',
      cost: (embedded.usage.prompt_tokens * 1000) / 1e6,
    });

    await api()
      .put('/api/admin/prices')
      .set(as(adminSession))
      .send({ model: 'enclave-sim', inputPerMillion: 0, outputPerMillion: 0 })
      .expect(200);
    await reloadChats();
    await priced.client.chat.completions.create({
      model: 'enclave-sim',
      messages: [{ role: 'user', content: 'And now?' }],
    });
    await flushUsage();
    expect(await costs()).toEqual([
      [expected, 'EUR'],
      [0, 'EUR'],
    ]);

    const events = await auditSince(h.dataSource, since);
    const priceEvents = events.filter((e) => e.action === 'admin.price.updated');
    expect(priceEvents.map((e) => e.payload)).toEqual([
      { before: null, after: { inputPerMillion: 1000, outputPerMillion: 2000, currency: 'EUR' } },
      {
        before: { inputPerMillion: 1000, outputPerMillion: 2000, currency: 'EUR' },
        after: { inputPerMillion: 0, outputPerMillion: 0, currency: 'EUR' },
      },
    ]);
    const history = await api()
      .get('/api/admin/prices')
      .query({ model: 'enclave-sim' })
      .set(as(auditorSession))
      .expect(200);
    expect(history.body.data).toHaveLength(2);
  });

  /** The error of a 429 `budget_exceeded` (fails on any other answer). */
  async function budgetRefusal(res: Response): Promise<{ error: { message: string } }> {
    expect(res.status).toBe(429);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('budget_exceeded');
    return body;
  }

  /** Requests alternating between the two instances until one is refused. */
  async function untilRefused(key: string, model = 'enclave-sim') {
    const urls = [h.baseURL, ChatHarness.urlOf(second)];
    let ok = 0;
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`${urls[i % 2]}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Count.' }] }),
      });
      if (res.status !== 200) return { ok, refused: res };
      await res.arrayBuffer();
      ok++;
    }
    throw new Error('never refused');
  }

  it('refuses at a daily token budget across two chat instances, with the reset time, and warns first', async () => {
    const u = await h.user('budget-tokens@example.com');
    const since = await lastAuditId(h.dataSource);
    await api()
      .put('/api/admin/budgets')
      .set(as(adminSession))
      .send({ scope: 'user', subjectId: u.userId, unit: 'tokens', period: 'day', limit: 200 })
      .expect(200);
    await reloadChats();

    const { ok, refused } = await untilRefused(u.key);
    const body = await budgetRefusal(refused);
    expect(body.error.message).toMatch(
      /daily budget of 200 tokens for your user is used up; it resets at \d{4}-\d\d-\d\dT00:00:00.000Z/,
    );
    expect(refused.headers.get('x-enclave-budget-reset')).toMatch(/T00:00:00.000Z$/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Each answer costs more than 10 tokens: the 200 are spent by at most 20 requests, and the
    // counter (shared in Postgres) stops both instances at the same total.
    expect(ok).toBeGreaterThan(1);
    expect(ok).toBeLessThanOrEqual(20);
    const [{ tokens }] = await h.dataSource.query(
      `SELECT sum(prompt_tokens + completion_tokens)::int AS tokens FROM messages
        WHERE user_id = $1 AND role = 'assistant'`,
      [u.userId],
    );
    expect(tokens).toBeGreaterThanOrEqual(200);

    // One warning, whichever instance saw the 80% first (written off the request path).
    let warnings: Awaited<ReturnType<typeof auditSince>> = [];
    for (let i = 0; i < 50 && !warnings.length; i++) {
      warnings = (await auditSince(h.dataSource, since)).filter(
        (e) => e.action === 'budget.warning',
      );
      if (!warnings.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.payload).toMatchObject({ unit: 'tokens', period: 'day', limit: 200 });
  });

  it('refuses at one API key’s budget while the owner’s other key goes on; names the key', async () => {
    const u = await h.user('two-keys@example.com');
    const [{ id: keyId, prefix }] = await h.dataSource.query(
      'SELECT id, prefix FROM api_keys WHERE user_id = $1',
      [u.userId],
    );
    const other = await api()
      .post(`/api/admin/users/${u.userId}/keys`)
      .set(as(adminSession))
      .send({ name: 'second' })
      .expect(201);

    const missing = await api()
      .put('/api/admin/budgets')
      .set(as(adminSession))
      .send({
        scope: 'api_key',
        subjectId: '00000000-0000-4000-8000-000000000000',
        unit: 'tokens',
        period: 'day',
        limit: 100,
      })
      .expect(404);
    expect(missing.body.error.code).toBe('api_key_not_found');
    await api()
      .put('/api/admin/budgets')
      .set(as(adminSession))
      .send({ scope: 'api_key', subjectId: keyId, unit: 'tokens', period: 'day', limit: 100 })
      .expect(200);
    await reloadChats();

    const { ok, refused } = await untilRefused(u.key);
    const body = await budgetRefusal(refused);
    expect(body.error.message).toContain(`daily budget of 100 tokens for the API key ${prefix}`);
    expect(ok).toBeGreaterThan(0);
    // The budget is the key's, not the person's.
    const answer = await openaiClient(`${h.baseURL}/v1`, other.body.key).chat.completions.create({
      model: 'enclave-sim',
      messages: [{ role: 'user', content: 'Still there?' }],
    });
    expect(answer.choices[0]!.message.content).toBeTruthy();

    const budgets = await api().get('/api/admin/budgets').set(as(auditorSession)).expect(200);
    expect(budgets.body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ scope: 'api_key', subjectId: keyId, subjectLabel: prefix }),
      ]),
    );
  });

  it('refuses at a monthly money budget of a group across both instances', async () => {
    const interns = (
      await api().get('/api/admin/groups').set(as(auditorSession)).expect(200)
    ).body.data.find((g: { name: string }) => g.name === 'Interns');
    await api()
      .put('/api/admin/prices')
      .set(as(adminSession))
      .send({ model: 'enclave-sim', inputPerMillion: 10_000, outputPerMillion: 10_000 })
      .expect(200);
    // 1 EUR at 10,000 per million tokens is 100 tokens.
    await api()
      .put('/api/admin/budgets')
      .set(as(adminSession))
      .send({ scope: 'group', subjectId: interns.id, unit: 'money', period: 'month', limit: 1 })
      .expect(200);
    await reloadChats();

    const { ok, refused } = await untilRefused(intern.key);
    const body = await budgetRefusal(refused);
    expect(body.error.message).toContain('monthly budget of 1 EUR for the group Interns');
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThanOrEqual(10);

    // The budgets page shows it with the group's name.
    const budgets = await api().get('/api/admin/budgets').set(as(auditorSession)).expect(200);
    expect(budgets.body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ scope: 'group', subjectLabel: 'Interns', unit: 'money' }),
      ]),
    );
    const bad = await api()
      .put('/api/admin/budgets')
      .set(as(adminSession))
      .send({ scope: 'user', subjectId: intern.userId, unit: 'tokens', period: 'day', limit: 1.5 })
      .expect(400);
    expect(bad.body.error.message).toContain('whole number');
  });

  it('reports usage and cost by group, user, model and day, as JSON and CSV; auditors read', async () => {
    await flushUsage();
    const today = new Date().toISOString().slice(0, 10);
    const report = async (by: string, extra: Record<string, string> = {}) =>
      (
        await api()
          .get('/api/admin/reports/usage')
          .query({ by, from: today, to: today, ...extra })
          .set(as(auditorSession))
          .expect(200)
      ).body;

    const byGroup = await report('group');
    const labels = byGroup.rows.map((r: { label: string }) => r.label);
    expect(labels).toEqual(expect.arrayContaining(['Legal', 'Interns', '(no group)']));
    const internsRow = byGroup.rows.find((r: { label: string }) => r.label === 'Interns');
    expect(internsRow.cost).toBeGreaterThanOrEqual(1);

    const byUser = await report('user', { groupId: legalGroupId });
    expect(byUser.rows.map((r: { label: string }) => r.label)).toEqual(['lawyer@example.com']);
    const byModel = await report('model', { userId: legal.userId });
    expect(byModel.rows).toEqual([
      expect.objectContaining({ key: 'sim-large', requests: 1, cost: 0 }),
    ]);
    const byDay = await report('day');
    expect(byDay.rows).toHaveLength(1);
    expect(byDay.rows[0].key).toBe(today);

    const csv = await api()
      .get('/api/admin/reports/usage')
      .query({ by: 'group', from: today, to: today, format: 'csv' })
      .set(as(auditorSession))
      .expect(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toContain('usage-by-group');
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('group,label,requests,prompt_tokens,completion_tokens,cost,currency');
    expect(lines.some((l) => l.includes(',Interns,'))).toBe(true);

    const wrong = await api()
      .get('/api/admin/reports/usage')
      .query({ by: 'group', from: today, to: '2000-01-01' })
      .set(as(auditorSession))
      .expect(400);
    expect(wrong.body.error.code).toBe('invalid_range');
    // Users see none of it.
    await api()
      .get('/api/admin/reports/usage')
      .query({ by: 'group', from: today, to: today })
      .set(as(intern.key))
      .expect(403);
  });

  it('refuses to delete the only group a model is open to; otherwise its access and budgets go with it', async () => {
    const make = async (name: string) =>
      (await api().post('/api/admin/groups').set(as(adminSession)).send({ name }).expect(201)).body
        .id as string;
    const [research, labs] = [await make('Research'), await make('Labs')];
    await api()
      .put('/api/admin/model-access')
      .set(as(adminSession))
      .send({ model: 'research-model', groupIds: [research] })
      .expect(200);
    await api()
      .put('/api/admin/budgets')
      .set(as(adminSession))
      .send({ scope: 'group', subjectId: research, unit: 'tokens', period: 'day', limit: 5000 })
      .expect(200);

    // Deleting it would open the model to everyone.
    const refused = await api()
      .delete(`/api/admin/groups/${research}`)
      .set(as(adminSession))
      .expect(409);
    expect(refused.body.error.code).toBe('group_in_use');
    expect(refused.body.error.message).toContain("'research-model'");
    const rules = () =>
      h.dataSource.query(
        `SELECT group_id::text AS "groupId" FROM model_access WHERE model = 'research-model' ORDER BY 1`,
      );
    expect(await rules()).toEqual([{ groupId: research }]);

    // With a second group on the model, the first may go: its rule and budget with it.
    await api()
      .put('/api/admin/model-access')
      .set(as(adminSession))
      .send({ model: 'research-model', groupIds: [research, labs] })
      .expect(200);
    const since = await lastAuditId(h.dataSource);
    await api().delete(`/api/admin/groups/${research}`).set(as(adminSession)).expect(204);
    expect(await rules()).toEqual([{ groupId: labs }]);
    expect(
      await h.count("SELECT 1 FROM budgets WHERE scope = 'group' AND subject_id = $1", [research]),
    ).toBe(0);
    const [deleted] = (await auditSince(h.dataSource, since)).filter(
      (e) => e.action === 'admin.group.deleted',
    );
    expect(deleted!.payload).toEqual({
      before: { name: 'Research', description: null },
      leftModelAccess: ['research-model'],
      deletedBudgets: [expect.objectContaining({ unit: 'tokens', period: 'day', limit: 5000 })],
    });
  });

  it('keeps usage, reports and the dashboard unchanged when a conversation is deleted', async () => {
    const u = await h.user('deleter@example.com');
    const session = await sessionCredential(h.app, u.userId);
    const chat = () => request(h.app.getHttpServer());
    const conv = await chat().post('/api/conversations').set(as(session)).send({}).expect(201);
    for (const content of ['First question', 'Second question']) {
      await chat()
        .post(`/api/conversations/${conv.body.id}/messages`)
        .set(as(session))
        .send({ model: 'enclave-sim', content })
        .expect(200);
    }
    await flushUsage();
    const today = new Date().toISOString().slice(0, 10);
    const snapshot = async () => ({
      dashboard: (
        await api()
          .get('/api/admin/dashboard')
          .query({ minutes: '60' })
          .set(as(auditorSession))
          .expect(200)
      ).body.totals,
      mine: (
        await api()
          .get('/api/admin/reports/usage')
          .query({ by: 'model', from: today, to: today, userId: u.userId })
          .set(as(auditorSession))
          .expect(200)
      ).body.rows,
      usage: (
        await api()
          .get('/api/admin/usage')
          .query({ from: today, to: today, userId: u.userId })
          .set(as(auditorSession))
          .expect(200)
      ).body,
    });
    const before = await snapshot();
    expect(before.mine).toEqual([expect.objectContaining({ key: 'enclave-sim', requests: 2 })]);
    expect(before.dashboard.requests).toBeGreaterThanOrEqual(2);

    await chat().delete(`/api/conversations/${conv.body.id}`).set(as(session)).expect(204);
    expect(await h.count('SELECT 1 FROM messages WHERE conversation_id = $1', [conv.body.id])).toBe(
      0,
    );
    expect(await snapshot()).toEqual(before);

    // And the user's own view in the chat app says the same.
    const mine = await chat().get('/api/me/usage').set(as(session)).expect(200);
    expect(mine.body.byModel).toEqual([
      expect.objectContaining({ key: 'enclave-sim', requests: 2 }),
    ]);
    expect(mine.body.byDay).toEqual([expect.objectContaining({ key: today, requests: 2 })]);
  });
});
