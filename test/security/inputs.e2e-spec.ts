import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AdminAppModule } from '../../apps/admin/src/admin.module.js';
import { startApp } from '../support/app.js';
import { credentials, sessionCredential } from '../support/auth.js';
import { ChatHarness } from '../support/chat-harness.js';

// Inputs the penetration test turned into 500s: NUL and control characters in text fields,
// cursors naming impossible dates, numbers past what the database holds. Each is a 400 with a
// stable code now, and nothing is stored.

const ID = '0b8f3a52-8c1e-4d6f-9a51-2f0c7e6d1a10';
const cursorOf = (fields: object) => Buffer.from(JSON.stringify(fields)).toString('base64url');

describe('inputs that used to reach a 500', () => {
  let h: ChatHarness;
  let admin: INestApplication;
  let adminSession: string;
  let staff: Awaited<ReturnType<ChatHarness['user']>>;
  let staffSession: string;
  let conversationId: string;

  beforeAll(async () => {
    h = await ChatHarness.start();
    admin = await startApp(AdminAppModule.forRoot(h.config), h.config);
    adminSession = await sessionCredential(
      h.app,
      (await h.user('root@example.com', { role: 'admin' })).userId,
    );
    staff = await h.user('staff@example.com');
    staffSession = await sessionCredential(h.app, staff.userId);
    const res = await request(h.app.getHttpServer())
      .post('/api/conversations')
      .set(credentials(staffSession))
      .send({ title: 'fine' })
      .expect(201);
    conversationId = res.body.id;
  });
  afterAll(async () => {
    await admin?.close();
    await h?.stop();
  });

  const chat = () => request(h.app.getHttpServer());
  const adminApi = () => request(admin.getHttpServer());

  it.each([
    [
      'login email',
      'chat',
      'post',
      '/api/auth/login',
      { email: 'a\u0000@example.com', password: 'x' },
    ],
    ['conversation title', 'chat', 'post', '/api/conversations', { title: 'hi\u0000there' }],
    ['conversation rename', 'chat', 'patch', '/api/conversations/:conv', { title: 'a\u0000' }],
    [
      'chat message',
      'chat',
      'post',
      '/v1/chat/completions',
      { model: 'enclave-sim', messages: [{ role: 'user', content: 'hi\u0000' }] },
    ],
    [
      'unknown message field',
      'chat',
      'post',
      '/v1/chat/completions',
      {
        model: 'enclave-sim',
        messages: [{ role: 'user', content: 'hi', extra: { 'k\u0000': 1 } }],
      },
    ],
    [
      'unknown request field (passed through to the upstream)',
      'chat',
      'post',
      '/v1/chat/completions',
      {
        model: 'enclave-sim',
        messages: [{ role: 'user', content: 'hi' }],
        chat_template_kwargs: { 'k\u0000': 1 },
      },
    ],
    [
      'chat message, lone surrogate',
      'chat',
      'post',
      '/v1/chat/completions',
      { model: 'enclave-sim', messages: [{ role: 'user', content: 'hi \ud800 there' }] },
    ],
    [
      'Responses input, lone surrogate (stored as jsonb)',
      'chat',
      'post',
      '/v1/responses',
      { model: 'enclave-sim', input: [{ role: 'user', content: 'half \udc00 a pair' }] },
    ],
    ['key name', 'chat', 'post', '/api/keys', { name: 'laptop\u0000' }],
    ['key name, escape', 'chat', 'post', '/api/keys', { name: 'lap\u001btop' }],
    [
      'display name',
      'admin',
      'post',
      '/api/admin/users',
      { email: 'new@example.com', role: 'user', displayName: 'Eve\u0000' },
    ],
    ['alias model', 'admin', 'put', '/api/admin/aliases/fast', { model: 'enclave-sim\u0000' }],
    [
      'hold reason',
      'admin',
      'post',
      '/api/admin/audit/holds',
      { userId: ID, reason: 'because\u0000 of a case' },
    ],
    [
      'policy prompt',
      'admin',
      'patch',
      '/api/admin/policies',
      { defaultSystemPrompt: 'Be\u0000 brief.' },
    ],
  ] as const)(
    'refuses NUL or a control character in the %s (400)',
    async (_, app, method, path, body) => {
      const server = app === 'chat' ? chat() : adminApi();
      const auth = credentials(app === 'chat' ? staffSession : adminSession);
      const res = await server[method](path.replace(':conv', conversationId))
        .set(path.includes('/v1/') ? credentials(staff.key) : auth)
        .send(body as object);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_body');
    },
  );

  it.each([
    ['chat search q', 'chat', '/api/conversations?q=a%00b', 'invalid_query'],
    ['admin search q', 'admin', '/api/admin/conversations?q=a%00b', 'invalid_query'],
    ['audit actor', 'admin', '/api/admin/audit/events?actor=a%00', 'invalid_query'],
    ['feedback model', 'admin', '/api/admin/feedback?model=m%00', 'invalid_query'],
    [
      'usage model',
      'admin',
      '/api/admin/usage?from=2026-01-01&to=2026-01-02&model=m%00',
      'invalid_query',
    ],
    ['key prefix', 'chat', '/api/keys/ek_%00', 'invalid_param'],
    ['alias', 'admin', '/api/admin/aliases/a%00', 'invalid_param'],
    ['model id', 'chat', '/v1/models/m%00', 'invalid_param'],
  ] as const)('refuses NUL in the %s (400)', async (_, app, path, code) => {
    const method =
      path.startsWith('/api/keys/') || path.startsWith('/api/admin/aliases/') ? 'delete' : 'get';
    const server = app === 'chat' ? chat() : adminApi();
    const auth = path.startsWith('/v1/')
      ? credentials(staff.key)
      : credentials(app === 'chat' ? staffSession : adminSession);
    const res = await server[method](path).set(auth);
    expect([res.status, res.body.error?.code]).toEqual([400, code]);
  });

  it.each([
    ['admin conversations', 'admin', '/api/admin/conversations', 'before', 'updatedAt'],
    ['admin feedback', 'admin', '/api/admin/feedback', 'cursor', 'createdAt'],
    ['chat conversations', 'chat', '/api/conversations', 'cursor', 'updatedAt'],
  ] as const)(
    'refuses a %s cursor naming February 30th (400 invalid_cursor)',
    async (_, app, path, param, timeKey) => {
      const server = app === 'chat' ? chat() : adminApi();
      const cursor = cursorOf({ [timeKey]: '2025-02-30T10:00:00.000000Z', id: ID });
      const res = await server
        .get(path)
        .query({ [param]: cursor })
        .set(credentials(app === 'chat' ? staffSession : adminSession));
      expect([res.status, res.body.error?.code]).toEqual([400, 'invalid_cursor']);
    },
  );

  it.each([
    ['/api/admin/audit/events?before=9999999999999999999'],
    ["/api/admin/audit/events?before='%20OR%201%3D1%20--"],
    ['/api/admin/audit/events?limit=99999999999'],
    ['/api/admin/conversations?limit=1e3'],
    ['/api/admin/dashboard?minutes=-1'],
  ])('refuses %s (400 invalid_query)', async (path) => {
    const res = await adminApi().get(path).set(credentials(adminSession));
    expect([res.status, res.body.error?.code]).toEqual([400, 'invalid_query']);
  });

  it('refuses numbers past what the database or a model holds (400 invalid_body)', async () => {
    for (const body of [
      {
        scope: 'default_user',
        requestsPerMinute: 2 ** 31,
        tokensPerDay: null,
        tokensPerMonth: null,
      },
      {
        scope: 'default_user',
        requestsPerMinute: null,
        tokensPerDay: 2 ** 60,
        tokensPerMonth: null,
      },
    ]) {
      const res = await adminApi()
        .put('/api/admin/quotas')
        .set(credentials(adminSession))
        .send(body);
      expect([res.status, res.body.error?.code]).toEqual([400, 'invalid_body']);
    }
    const res = await chat()
      .post('/v1/chat/completions')
      .set(credentials(staff.key))
      .send({
        model: 'enclave-sim',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 1e300,
      });
    expect([res.status, res.body.error?.code]).toEqual([400, 'invalid_body']);

    // A budget's limit: numeric(20, 6), counted in millionths in a bigint.
    for (const limit of [1e14, 1e-7]) {
      const budget = await adminApi()
        .put('/api/admin/budgets')
        .set(credentials(adminSession))
        .send({ scope: 'user', subjectId: staff.userId, unit: 'money', period: 'day', limit });
      expect([budget.status, budget.body.error?.code]).toEqual([400, 'invalid_body']);
    }
  });
});
