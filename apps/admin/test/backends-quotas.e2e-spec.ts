import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { UpstreamPool } from '@enclave/llm';
import { PolicyService, UsageBuffer } from '@enclave/policy';
import { AdminAppModule } from '../src/admin.module.js';
import { startApp } from '../../../test/support/app.js';
import { credentials, sessionCredential } from '../../../test/support/auth.js';
import { ChatHarness } from '../../../test/support/chat-harness.js';

// The admin API for backends, aliases, quotas and usage, with a chat instance on the same
// database that must pick every change up without a restart.

async function waitFor(check: () => boolean, ms = 1_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !check()) await new Promise((r) => setTimeout(r, 20));
  return check();
}

describe('admin: backends, quotas and usage', () => {
  let h: ChatHarness;
  let admin: INestApplication;
  let adminKey: string;
  let userKey: string;
  let auditorKey: string;
  let userId: string;

  const as = credentials;

  beforeAll(async () => {
    h = await ChatHarness.start();
    admin = await startApp(AdminAppModule.forRoot(h.config), h.config);
    adminKey = await sessionCredential(
      h.app,
      (await h.user('root@example.com', { role: 'admin' })).userId,
    );
    auditorKey = await sessionCredential(
      h.app,
      (await h.user('auditor@example.com', { role: 'auditor' })).userId,
    );
    const u = await h.user('staff@example.com');
    userKey = u.key;
    userId = u.userId;
  });
  afterAll(async () => {
    await admin.close();
    await h.stop();
  });

  it('adds a backend that every chat instance routes to within 1 s, without its key in sight', async () => {
    const extra = await h.extraSim();
    const res = await request(admin.getHttpServer())
      .post('/api/admin/backends')
      .set(as(adminKey))
      .send({ name: 'gpu-2', baseUrl: extra.url, apiKey: 'sk-very-secret', weight: 5 })
      .expect(201);
    expect(res.body).toMatchObject({ name: 'gpu-2', weight: 5, hasApiKey: true, enabled: true });
    expect(JSON.stringify(res.body)).not.toContain('sk-very-secret');

    const pool = h.app.get(UpstreamPool);
    expect(await waitFor(() => pool.status().some((b) => b.name === 'gpu-2'))).toBe(true);

    const [event] = await h.dataSource.query(
      "SELECT payload FROM audit_events WHERE action = 'admin.backend.created'",
    );
    expect(event.payload.before).toBeNull();
    expect(event.payload.after).toMatchObject({ name: 'gpu-2', hasApiKey: true });
    expect(JSON.stringify(event.payload)).not.toContain('sk-very-secret');

    const tested = await request(admin.getHttpServer())
      .post(`/api/admin/backends/${res.body.id}/test`)
      .set(as(adminKey))
      .expect(200);
    expect(tested.body).toMatchObject({ name: 'gpu-2', healthy: true });
  });

  it('disables a backend: chat stops using it within 1 s, the audit shows before and after', async () => {
    const list = await request(admin.getHttpServer())
      .get('/api/admin/backends')
      .set(as(adminKey))
      .expect(200);
    const gpu2 = list.body.find((b: { name: string }) => b.name === 'gpu-2');
    await request(admin.getHttpServer())
      .patch(`/api/admin/backends/${gpu2.id}`)
      .set(as(adminKey))
      .send({ enabled: false })
      .expect(200);
    const pool = h.app.get(UpstreamPool);
    expect(
      await waitFor(() => pool.status().find((b) => b.name === 'gpu-2')?.enabled === false),
    ).toBe(true);
    expect(pool.pick('enclave-sim')?.name).not.toBe('gpu-2');
    const [event] = await h.dataSource.query(
      "SELECT payload FROM audit_events WHERE action = 'admin.backend.updated' ORDER BY id DESC LIMIT 1",
    );
    expect([event.payload.before.enabled, event.payload.after.enabled]).toEqual([true, false]);
  });

  it('marks a backend as serving /v1/responses itself: chat forwards the Responses API to it', async () => {
    const extra = await h.extraSim({ responsesApi: true, models: ['responses-native'] });
    const res = await request(admin.getHttpServer())
      .post('/api/admin/backends')
      .set(as(adminKey))
      .send({ name: 'gpu-3', baseUrl: extra.url, models: ['responses-native'], responsesApi: true })
      .expect(201);
    expect(res.body).toMatchObject({ name: 'gpu-3', responsesApi: true });
    const [event] = await h.dataSource.query(
      "SELECT payload FROM audit_events WHERE action = 'admin.backend.created' ORDER BY id DESC LIMIT 1",
    );
    expect(event.payload.after).toMatchObject({ name: 'gpu-3', responsesApi: true });

    const pool = h.app.get(UpstreamPool);
    expect(await waitFor(() => pool.models().includes('responses-native'))).toBe(true);
    const { client } = await h.user('responses-admin@example.com');
    const answer = await client.responses.create({ model: 'responses-native', input: 'Hello' });
    expect(answer.status).toBe('completed');
    expect(extra.sim.served).toEqual({ '/v1/responses': 1 });
  });

  it('sets a quota that reaches the chat instance within 1 s', async () => {
    await request(admin.getHttpServer())
      .put('/api/admin/quotas')
      .set(as(adminKey))
      .send({
        scope: 'user',
        subjectId: userId,
        requestsPerMinute: 3,
        tokensPerDay: null,
        tokensPerMonth: 5000,
      })
      .expect(200);
    const policy = h.app.get(PolicyService);
    const principal = {
      userId,
      email: '',
      role: 'user' as const,
      via: 'session' as const,
      apiKey: null,
      session: null,
    };
    expect(await waitFor(() => policy.limitsOf(principal).user.requestsPerMinute === 3)).toBe(true);
    expect(policy.limitsOf(principal).user.tokensPerMonth).toBe(5000);
    const quotas = await request(admin.getHttpServer())
      .get('/api/admin/quotas')
      .set(as(adminKey))
      .expect(200);
    expect(quotas.body).toEqual([
      {
        scope: 'user',
        subjectId: userId,
        requestsPerMinute: 3,
        tokensPerDay: null,
        tokensPerMonth: 5000,
      },
    ]);
  });

  it('reports usage to admins and auditors', async () => {
    await fetch(`${h.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...as(userKey) },
      body: JSON.stringify({ model: 'enclave-sim', messages: [{ role: 'user', content: 'hi' }] }),
    }).then((r) => r.arrayBuffer());
    await h.app.get(UsageBuffer).flush();
    const today = new Date().toISOString().slice(0, 10);
    for (const key of [adminKey, auditorKey]) {
      const res = await request(admin.getHttpServer())
        .get(`/api/admin/usage?from=${today}&to=${today}&userId=${userId}`)
        .set(as(key))
        .expect(200);
      expect(res.body).toEqual([
        expect.objectContaining({ userId, model: 'enclave-sim', requests: 1 }),
      ]);
    }
    const bad = await request(admin.getHttpServer())
      .get('/api/admin/usage?from=yesterday&to=x')
      .set(as(adminKey))
      .expect(400);
    expect(bad.body.error.code).toBe('invalid_query');
  });

  it('refuses users and auditors on changes, and bad input with stable codes', async () => {
    for (const key of [userKey, auditorKey]) {
      await request(admin.getHttpServer())
        .post('/api/admin/backends')
        .set(as(key))
        .send({})
        .expect(403);
      await request(admin.getHttpServer())
        .put('/api/admin/quotas')
        .set(as(key))
        .send({})
        .expect(403);
    }
    await request(admin.getHttpServer()).get('/api/admin/backends').set(as(userKey)).expect(403);
    const invalid = await request(admin.getHttpServer())
      .post('/api/admin/backends')
      .set(as(adminKey))
      .send({ name: 'Bad Name', baseUrl: 'ftp://x' })
      .expect(400);
    expect(invalid.body.error).toMatchObject({ code: 'invalid_body', param: 'name' });
    const dup = await request(admin.getHttpServer())
      .post('/api/admin/backends')
      .set(as(adminKey))
      .send({ name: 'gpu-2', baseUrl: 'http://127.0.0.1:9/v1' })
      .expect(409);
    expect(dup.body.error.code).toBe('backend_name_taken');
    const badId = await request(admin.getHttpServer())
      .patch('/api/admin/backends/not-a-uuid')
      .set(as(adminKey))
      .send({ weight: 2 })
      .expect(400);
    expect(badId.body.error.code).toBe('invalid_id');
    const missing = await request(admin.getHttpServer())
      .patch('/api/admin/backends/00000000-0000-4000-8000-000000000000')
      .set(as(adminKey))
      .send({ weight: 2 })
      .expect(404);
    expect(missing.body.error.code).toBe('backend_not_found');
  });

  it('lists model aliases to admins only, after a change', async () => {
    await request(admin.getHttpServer())
      .put('/api/admin/aliases/fast')
      .set(as(adminKey))
      .send({ model: 'enclave-sim' })
      .expect(204);
    const res = await request(admin.getHttpServer())
      .get('/api/admin/aliases')
      .set(as(adminKey))
      .expect(200);
    expect(res.body.data).toContainEqual({ alias: 'fast', model: 'enclave-sim' });
    await request(admin.getHttpServer()).get('/api/admin/aliases').set(as(auditorKey)).expect(403);
    await request(admin.getHttpServer()).get('/api/admin/aliases').set(as(userKey)).expect(403);
  });
});
