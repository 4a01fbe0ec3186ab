import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AdminAppModule } from '../src/admin.module.js';
import { startApp } from '../../../test/support/app.js';
import { credentials, sessionCredential } from '../../../test/support/auth.js';
import { ChatHarness } from '../../../test/support/chat-harness.js';

// Legal holds and erasure through the admin API: admins place and release holds and erase a
// user; auditors see the holds; a hold blocks erasure; every change is audited.

describe('admin: legal holds and erasure', () => {
  let h: ChatHarness;
  let admin: INestApplication;
  let adminKey: string;
  let adminId: string;
  let auditorKey: string;
  let userKey: string;
  let alice: Awaited<ReturnType<ChatHarness['user']>>;

  const call = (method: 'get' | 'post', path: string, key: string, body?: object) => {
    const server = request(admin.getHttpServer());
    const url = `/api/admin/audit${path}`;
    const r = (method === 'get' ? server.get(url) : server.post(url)).set(credentials(key));
    return body ? r.send(body) : r;
  };

  async function audited(action: string) {
    return h.dataSource.query(
      `SELECT actor_id AS "actorId", target_type AS "targetType", target_id AS "targetId", payload
         FROM audit_events WHERE action = $1 ORDER BY id`,
      [action],
    );
  }

  beforeAll(async () => {
    h = await ChatHarness.start();
    admin = await startApp(AdminAppModule.forRoot(h.config), h.config);
    const root = await h.user('root@example.com', { role: 'admin' });
    adminKey = await sessionCredential(h.app, root.userId);
    adminId = root.userId;
    auditorKey = await sessionCredential(
      h.app,
      (await h.user('auditor@example.com', { role: 'auditor' })).userId,
    );
    userKey = (await h.user('staff@example.com')).key;
    alice = await h.user('alice@example.com');
    await alice.client.chat.completions.create({
      model: 'enclave-sim',
      messages: [{ role: 'user', content: 'a private question' }],
    });
  });
  afterAll(async () => {
    await admin.close();
    await h.stop();
  });

  it('only admins change holds or erase; auditors may list holds; users nothing', async () => {
    const hold = { userId: alice.userId, reason: 'litigation 42' };
    await call('post', '/holds', auditorKey, hold).expect(403);
    await call('post', '/holds', userKey, hold).expect(403);
    await call('get', '/holds', userKey).expect(403);
    await call('get', '/holds', auditorKey).expect(200);
    await call('post', '/erasures', auditorKey, { userId: alice.userId, reason: 'gdpr 17' }).expect(
      403,
    );
  });

  it('validates holds: a user or a time range, a reason, a known user', async () => {
    const bad = await call('post', '/holds', adminKey, { reason: 'no scope at all' }).expect(400);
    expect(bad.body.error.code).toBeDefined();
    await call('post', '/holds', adminKey, { userId: alice.userId, reason: 'x' }).expect(400);
    const unknown = await call('post', '/holds', adminKey, {
      userId: '00000000-0000-4000-8000-000000000000',
      reason: 'nobody here',
    }).expect(404);
    expect(unknown.body.error.code).toBe('user_not_found');
  });

  it('a hold blocks erasure (409 legal_hold_active) until released; erasure then redacts', async () => {
    const created = await call('post', '/holds', adminKey, {
      userId: alice.userId,
      from: '2020-01-01T00:00:00Z',
      reason: 'litigation 42',
    }).expect(201);
    expect(created.body).toMatchObject({
      userId: alice.userId,
      userEmail: 'alice@example.com',
      from: '2020-01-01T00:00:00.000Z',
      to: null,
      reason: 'litigation 42',
      createdBy: adminId,
      active: true,
      releasedAt: null,
    });
    const id = created.body.id as string;
    const listed = await call('get', '/holds', auditorKey).expect(200);
    expect(listed.body.data.map((x: { id: string }) => x.id)).toContain(id);

    const refused = await call('post', '/erasures', adminKey, {
      userId: alice.userId,
      reason: 'gdpr art 17',
    }).expect(409);
    expect(refused.body.error.code).toBe('legal_hold_active');
    expect(await audited('audit.erasure.performed')).toEqual([]);

    const released = await call('post', `/holds/${id}/release`, adminKey).expect(200);
    expect(released.body).toMatchObject({ id, active: false, releasedBy: adminId });
    const again = await call('post', `/holds/${id}/release`, adminKey).expect(409);
    expect(again.body.error.code).toBe('hold_already_released');
    await call('post', '/holds/00000000-0000-4000-8000-000000000000/release', adminKey).expect(404);

    const erased = await call('post', '/erasures', adminKey, {
      userId: alice.userId,
      reason: 'gdpr art 17',
    }).expect(200);
    expect(erased.body).toMatchObject({ userId: alice.userId, messages: 1 });
    expect(erased.body.auditEvents).toBeGreaterThanOrEqual(1);
    const [completion] = await h.dataSource.query(
      `SELECT payload, redacted_at IS NOT NULL AS redacted FROM audit_events
        WHERE action = 'chat.completion' AND actor_id = $1`,
      [alice.userId],
    );
    expect(completion).toEqual({ payload: { redacted: true }, redacted: true });

    expect(await audited('audit.hold.created')).toEqual([
      {
        actorId: adminId,
        targetType: 'audit_hold',
        targetId: id,
        payload: {
          after: expect.objectContaining({ userId: alice.userId, reason: 'litigation 42' }),
        },
      },
    ]);
    expect(await audited('audit.hold.released')).toEqual([
      {
        actorId: adminId,
        targetType: 'audit_hold',
        targetId: id,
        payload: {
          before: expect.objectContaining({ active: true }),
          after: expect.objectContaining({ active: false }),
        },
      },
    ]);
    expect(await audited('audit.erasure.performed')).toEqual([
      {
        actorId: adminId,
        targetType: 'user',
        targetId: alice.userId,
        payload: expect.objectContaining({ userId: alice.userId, reason: 'gdpr art 17' }),
      },
    ]);
  });
});
