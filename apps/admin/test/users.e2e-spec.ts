import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { PublicUser } from '@enclave/auth';
import { AdminAppModule } from '../src/admin.module.js';
import { startApp } from '../../../test/support/app.js';
import {
  accountState,
  auditSince,
  type BrowserSession,
  createKey,
  createUser,
  expectOnlyAudited,
  lastAuditId,
  PASSWORD,
  signIn,
} from '../../../test/support/auth.js';
import { testConfig } from '../../../test/support/config.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';

// The admin API for users and API keys, and each user's own /api/keys, as the admin console and
// a user's browser call them (session cookie + CSRF header), on a real Postgres.

const KEY_PATTERN = /^ek_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/;
const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';

let db: TestDatabase;
let app: INestApplication;
let ds: DataSource;
let admin: PublicUser;
let adminSession: BrowserSession;

beforeAll(async () => {
  db = await createTestDatabase();
  const config = testConfig({ DATABASE_URL: db.url, AUTH_SIGNIN_FREE_FAILURES: '3' });
  app = await startApp(AdminAppModule.forRoot(config), config);
  ds = app.get(DataSource);
  admin = await createUser(app, 'root@example.com', 'admin');
  adminSession = await signIn(app, 'root@example.com');
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

/** A request as the given browser session: cookie always, CSRF header on writes. */
function as(s: BrowserSession) {
  const server = app.getHttpServer();
  return {
    get: (path: string) => request(server).get(path).set('Cookie', s.cookie),
    post: (path: string, body: object = {}) =>
      request(server).post(path).set('Cookie', s.cookie).set('x-csrf-token', s.csrf).send(body),
    patch: (path: string, body: object) =>
      request(server).patch(path).set('Cookie', s.cookie).set('x-csrf-token', s.csrf).send(body),
    delete: (path: string) =>
      request(server).delete(path).set('Cookie', s.cookie).set('x-csrf-token', s.csrf),
  };
}
const asAdmin = () => as(adminSession);

function bearer(key: string) {
  return request(app.getHttpServer()).get('/api/auth/me').set('Authorization', `Bearer ${key}`);
}

async function tryLogin(email: string, password: string) {
  return request(app.getHttpServer()).post('/api/auth/login').send({ email, password });
}

describe('creating users', () => {
  it('creates a user with a generated password that signs in, audited without the password', async () => {
    const since = await lastAuditId(ds);
    const res = await asAdmin()
      .post('/api/admin/users', {
        email: ' Alice@Example.COM ',
        role: 'user',
        displayName: 'Alice',
      })
      .expect(201);
    const { user, generatedPassword } = res.body;
    expect(user).toEqual({
      id: expect.any(String),
      email: 'alice@example.com',
      displayName: 'Alice',
      role: 'user',
      disabledAt: null,
      lockedUntil: null,
      passwordChangeRequired: true,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(generatedPassword).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const signedIn = await tryLogin('alice@example.com', generatedPassword);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.passwordChangeRequired).toBe(true);

    const [created] = await auditSince(ds, since, 'user.created');
    expect(created).toMatchObject({
      actorType: 'user',
      actorId: admin.id,
      targetType: 'user',
      targetId: user.id,
      outcome: 'success',
      payload: { email: 'alice@example.com', role: 'user' },
    });
    expect(JSON.stringify(created)).not.toContain(generatedPassword);
  });

  it('takes a chosen password (no generated one) of at least 12 characters', async () => {
    const res = await asAdmin()
      .post('/api/admin/users', {
        email: 'chosen@example.com',
        role: 'auditor',
        password: PASSWORD,
      })
      .expect(201);
    expect(res.body.generatedPassword).toBeNull();
    expect(res.body.user.role).toBe('auditor');
    expect((await tryLogin('chosen@example.com', PASSWORD)).status).toBe(200);

    const weak = await asAdmin()
      .post('/api/admin/users', { email: 'weak@example.com', role: 'user', password: 'short' })
      .expect(400);
    expect(weak.body.error.code).toBe('weak_password');
    // Long enough, but common, breached or built from the account's own name.
    for (const password of [
      'password1234',
      'Password123!',
      'qwertyuiop123',
      'weakling@example.com',
    ]) {
      const before = await accountState(ds);
      const res = await asAdmin()
        .post('/api/admin/users', { email: 'weakling@example.com', role: 'user', password })
        .expect(400);
      expect([password, res.body.error.code]).toEqual([password, 'weak_password']);
      expect(await accountState(ds)).toBe(before);
    }
  });

  it.each([
    [{ email: 'not-an-email', role: 'user' }, 400, 'invalid_email'],
    [{ email: 'a b@example.com', role: 'user' }, 400, 'invalid_email'],
    [{ email: 'x@example.com', role: 'root' }, 400, 'invalid_body'],
    [{ email: 'x@example.com', role: 'user', isAdmin: true }, 400, 'invalid_body'],
    [{ email: 'ALICE@example.com', role: 'user' }, 409, 'email_taken'],
  ])('refuses %j with %i %s and creates nobody', async (body, status, code) => {
    const before = await accountState(ds);
    const res = await asAdmin().post('/api/admin/users', body).expect(status);
    expect(res.body.error.code).toBe(code);
    expect(await accountState(ds)).toBe(before);
  });
});

describe('reading users', () => {
  it('lists and gets users without any password hash', async () => {
    const list = await asAdmin().get('/api/admin/users').expect(200);
    const emails = list.body.data.map((u: PublicUser) => u.email);
    expect(emails).toEqual(expect.arrayContaining(['root@example.com', 'alice@example.com']));
    expect(JSON.stringify(list.body)).not.toMatch(/argon2|passwordHash|password_hash/);

    const one = await asAdmin().get(`/api/admin/users/${admin.id}`).expect(200);
    expect(one.body).toMatchObject({ id: admin.id, email: 'root@example.com', role: 'admin' });
    expect(one.body).not.toHaveProperty('passwordHash');
  });

  it('answers 404 user_not_found for an unknown id and 400 invalid_id for a non-UUID', async () => {
    const missing = await asAdmin().get(`/api/admin/users/${NO_SUCH_ID}`).expect(404);
    expect(missing.body.error.code).toBe('user_not_found');
    for (const path of [
      '/api/admin/users/42',
      '/api/admin/users/42/keys',
      `/api/admin/users/${NO_SUCH_ID}x`,
    ]) {
      const bad = await asAdmin().get(path).expect(400);
      expect(bad.body.error.code).toBe('invalid_id');
    }
    const badPatch = await asAdmin().patch('/api/admin/users/nope', { role: 'user' }).expect(400);
    expect(badPatch.body.error.code).toBe('invalid_id');
  });
});

describe('changing users', () => {
  it('changes the role at once for live sessions, audited with before and after', async () => {
    const bob = await createUser(app, 'bob@example.com');
    const bobSession = await signIn(app, 'bob@example.com');
    const since = await lastAuditId(ds);
    const res = await asAdmin()
      .patch(`/api/admin/users/${bob.id}`, { role: 'auditor' })
      .expect(200);
    expect(res.body).toMatchObject({ id: bob.id, role: 'auditor', disabledAt: null });
    const me = await as(bobSession).get('/api/auth/me').expect(200);
    expect(me.body.user.role).toBe('auditor');
    const events = await auditSince(ds, since);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'user.role_changed',
      actorId: admin.id,
      targetId: bob.id,
      payload: { before: 'user', after: 'auditor' },
    });

    // Setting what is already so is no change, and leaves no audit event.
    await asAdmin().patch(`/api/admin/users/${bob.id}`, { role: 'auditor' }).expect(200);
    expect(await auditSince(ds, events[0]!.id)).toEqual([]);
  });

  it('refuses an empty or unknown change', async () => {
    const bob = await createUser(app, 'empty-patch@example.com');
    for (const body of [{}, { email: 'x@example.com' }, { role: 'root' }, { disabled: 'yes' }]) {
      const res = await asAdmin().patch(`/api/admin/users/${bob.id}`, body).expect(400);
      expect(res.body.error.code).toBe('invalid_body');
    }
    const missing = await asAdmin()
      .patch(`/api/admin/users/${NO_SUCH_ID}`, { role: 'admin' })
      .expect(404);
    expect(missing.body.error.code).toBe('user_not_found');
  });

  it('disables a user (sessions ended, sign-in refused) and enables them again', async () => {
    const carol = await createUser(app, 'carol@example.com');
    const carolSession = await signIn(app, 'carol@example.com');
    const since = await lastAuditId(ds);
    const res = await asAdmin()
      .patch(`/api/admin/users/${carol.id}`, { disabled: true })
      .expect(200);
    expect(res.body.disabledAt).not.toBeNull();
    expect((await as(carolSession).get('/api/auth/me').expect(401)).body.error.code).toBe(
      'session_expired',
    );
    const refused = await tryLogin('carol@example.com', PASSWORD);
    expect([refused.status, refused.body.error.code]).toEqual([401, 'account_disabled']);

    await asAdmin().patch(`/api/admin/users/${carol.id}`, { disabled: false }).expect(200);
    expect((await tryLogin('carol@example.com', PASSWORD)).status).toBe(200);
    const events = await auditSince(ds, since);
    expect(events.map((e) => e.action)).toEqual([
      'user.disabled',
      'auth.request.denied',
      'auth.login.failed',
      'user.enabled',
      'auth.login.succeeded',
    ]);
    expect(events[0]).toMatchObject({ targetId: carol.id, payload: { sessionsEnded: 1 } });
  });

  it('resets a password: old one refused, new one works, sessions ended, sign-in waits lifted', async () => {
    const dave = await createUser(app, 'dave@example.com');
    const daveSession = await signIn(app, 'dave@example.com');
    // Wrong guesses (from another address, so this file's own sign-ins are not slowed) until
    // the account has to wait; then a wait as long as many more failures make (set directly:
    // tests do not sleep), during which the right password is refused too.
    let status = 0;
    for (let i = 0; i < 12 && status !== 429; i++) {
      status = (
        await request(app.getHttpServer())
          .post('/api/auth/login')
          .set('x-forwarded-for', '192.0.2.44')
          .send({ email: 'dave@example.com', password: 'a wrong guess' })
      ).status;
    }
    expect(status).toBe(429);
    await ds.query(
      `UPDATE sign_in_throttle SET blocked_until = now() + interval '10 minutes' WHERE key = $1`,
      ['account:dave@example.com'],
    );
    expect((await tryLogin('dave@example.com', PASSWORD)).status).toBe(429);

    const since = await lastAuditId(ds);
    const res = await asAdmin().post(`/api/admin/users/${dave.id}/reset-password`).expect(200);
    const { generatedPassword } = res.body;
    expect(Object.keys(res.body)).toEqual(['generatedPassword']);
    expect(generatedPassword).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const events = await auditSince(ds, since);
    expect(events.map((e) => e.action)).toEqual(['user.password_reset']);
    expect(JSON.stringify(events)).not.toContain(generatedPassword);

    await as(daveSession).get('/api/auth/me').expect(401);
    expect((await tryLogin('dave@example.com', PASSWORD)).status).toBe(401);
    const signedIn = await tryLogin('dave@example.com', generatedPassword);
    expect([signedIn.status, signedIn.body.passwordChangeRequired]).toEqual([200, true]);
  });

  it('does not let an admin demote or disable themself (409 cannot_change_own_account)', async () => {
    for (const body of [
      { role: 'user' },
      { role: 'auditor' },
      { disabled: true },
      { role: 'user', disabled: true },
    ]) {
      const before = await accountState(ds);
      const res = await asAdmin().patch(`/api/admin/users/${admin.id}`, body).expect(409);
      expect(res.body.error.code).toBe('cannot_change_own_account');
      expect(await accountState(ds)).toBe(before);
    }
    // Restating what is already so is allowed.
    await asAdmin()
      .patch(`/api/admin/users/${admin.id}`, { role: 'admin', disabled: false })
      .expect(200);
    await asAdmin().get('/api/admin/users').expect(200);
  });

  it('lets one admin demote another', async () => {
    const other = await createUser(app, 'other-admin@example.com', 'admin');
    const res = await asAdmin().patch(`/api/admin/users/${other.id}`, { role: 'user' }).expect(200);
    expect(res.body.role).toBe('user');
  });
});

describe('who may call the admin API', () => {
  type Method = 'get' | 'post' | 'patch' | 'delete';
  // Every row has three cells: jest passes a `done` callback in place of a missing one.
  const ROUTES: [Method, string, object | null][] = [
    ['get', '/api/admin/users', null],
    ['post', '/api/admin/users', { email: 'sneaky@example.com', role: 'admin' }],
    ['get', `/api/admin/users/${NO_SUCH_ID}`, null],
    ['patch', `/api/admin/users/${NO_SUCH_ID}`, { role: 'admin' }],
    ['post', `/api/admin/users/${NO_SUCH_ID}/reset-password`, null],
    ['get', `/api/admin/users/${NO_SUCH_ID}/keys`, null],
    ['post', `/api/admin/users/${NO_SUCH_ID}/keys`, { name: 'sneaky' }],
    ['delete', '/api/admin/keys/ek_00000000', null],
  ];
  let sessions: Record<'user' | 'auditor', BrowserSession>;
  let keys: Record<'user' | 'auditor', string>;
  beforeAll(async () => {
    const u = await createUser(app, 'plain-user@example.com', 'user');
    const a = await createUser(app, 'plain-auditor@example.com', 'auditor');
    sessions = {
      user: await signIn(app, 'plain-user@example.com'),
      auditor: await signIn(app, 'plain-auditor@example.com'),
    };
    keys = { user: (await createKey(app, u.id)).key, auditor: (await createKey(app, a.id)).key };
  });

  /** The route called with the given headers (and its body, if it has one). */
  function call(
    method: Method,
    path: string,
    body: object | null,
    headers: Record<string, string>,
  ) {
    const req = request(app.getHttpServer())[method](path).set(headers);
    return body ? req.send(body) : req;
  }

  it.each(ROUTES)(
    '%s %s: 403 forbidden for user and auditor, 401 without credentials',
    async (method, path, body) => {
      for (const role of ['user', 'auditor'] as const) {
        const s = sessions[role];
        const asSession = { Cookie: s.cookie, 'x-csrf-token': s.csrf };
        const asKey = { Authorization: `Bearer ${keys[role]}` };
        for (const headers of [asSession, asKey]) {
          const event = await expectOnlyAudited(ds, 'auth.request.denied', async () => {
            const res = await call(method, path, body, headers).expect(403);
            expect(res.body.error.code).toBe('forbidden');
          });
          expect(event.payload).toMatchObject({ status: 403, code: 'forbidden' });
        }
      }
      await expectOnlyAudited(ds, 'auth.request.denied', async () => {
        const res = await call(method, path, body, {}).expect(401);
        expect(res.body.error.code).toBe('missing_credentials');
      });
    },
  );
});

describe('API keys on the admin API', () => {
  let keeper: PublicUser;
  let limited: string;
  let unlimited: string;
  beforeAll(async () => {
    keeper = await createUser(app, 'key-admin@example.com', 'admin');
    limited = (await createKey(app, keeper.id, { models: ['sim-small'] })).key;
    unlimited = (await createKey(app, keeper.id)).key;
  });
  const withKey = (key: string) => ({ Authorization: `Bearer ${key}` });

  it("refuses an admin's model-limited key on every admin route, reads included (403 api_key_model_limited)", async () => {
    const server = app.getHttpServer();
    const before = await accountState(ds);
    for (const [method, path, body] of [
      ['post', `/api/admin/users/${keeper.id}/keys`, { name: 'escalated' }],
      ['get', '/api/admin/users', null],
      ['patch', `/api/admin/users/${admin.id}`, { disabled: true }],
      ['get', '/api/admin/audit/events', null],
    ] as const) {
      const req = request(server)[method](path).set(withKey(limited));
      const res = await (body ? req.send(body) : req);
      expect([path, res.status, res.body.error?.code]).toEqual([
        path,
        403,
        'api_key_model_limited',
      ]);
    }
    // Routes are case-sensitive: another spelling of an admin path reaches no route at all.
    const respelled = await request(server).get('/API/ADMIN/USERS').set(withKey(limited));
    expect([respelled.status, respelled.body.error?.code]).toEqual([404, 'not_found']);
    expect(await accountState(ds)).toBe(before);
  });

  it('lets an unlimited admin key read the admin API but not write it (403 session_required)', async () => {
    const server = app.getHttpServer();
    await request(server).get('/api/admin/users').set(withKey(unlimited)).expect(200);
    const before = await accountState(ds);
    for (const [method, path, body] of [
      ['post', `/api/admin/users/${keeper.id}/keys`, { name: 'minted' }],
      ['post', '/api/admin/users', { email: 'by-key@example.com', role: 'admin' }],
      ['patch', `/api/admin/users/${admin.id}`, { role: 'user' }],
      ['post', `/api/admin/users/${admin.id}/reset-password`, {}],
    ] as const) {
      const res = await request(server)[method](path).set(withKey(unlimited)).send(body);
      expect([path, res.status, res.body.error?.code]).toEqual([path, 403, 'session_required']);
    }
    expect(await accountState(ds)).toBe(before);
  });
});

describe('API keys through the admin API', () => {
  it('creates a key that authenticates as its owner, lists it, and revokes it', async () => {
    const erin = await createUser(app, 'erin@example.com');
    const since = await lastAuditId(ds);
    const res = await asAdmin()
      .post(`/api/admin/users/${erin.id}/keys`, {
        name: 'batch job',
        models: ['enclave-sim'],
        expiresIn: '30d',
      })
      .expect(201);
    const { key, apiKey } = res.body;
    expect(key).toMatch(KEY_PATTERN);
    expect(apiKey).toEqual({
      id: expect.any(String),
      name: 'batch job',
      prefix: key.slice(0, 11),
      models: ['enclave-sim'],
      expiresAt: expect.any(String),
      revokedAt: null,
      lastUsedAt: null,
      createdAt: expect.any(String),
    });
    const days = (Date.parse(apiKey.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.99);
    expect(days).toBeLessThanOrEqual(30);

    const me = await bearer(key).expect(200);
    expect(me.body.user).toEqual({ id: erin.id, email: 'erin@example.com', role: 'user' });

    const listed = await asAdmin().get(`/api/admin/users/${erin.id}/keys`).expect(200);
    expect(listed.body.data).toEqual([expect.objectContaining({ prefix: apiKey.prefix })]);
    expect(JSON.stringify(listed.body)).not.toMatch(/secret|hash/i);

    await asAdmin().delete(`/api/admin/keys/${apiKey.prefix}`).expect(204);
    expect((await bearer(key).expect(401)).body.error.code).toBe('revoked_api_key');
    const again = await asAdmin().delete(`/api/admin/keys/${apiKey.prefix}`).expect(409);
    expect(again.body.error.code).toBe('api_key_already_revoked');

    const events = await auditSince(ds, since);
    const created = events.find((e) => e.action === 'api_key.created')!;
    expect(created).toMatchObject({
      actorId: admin.id,
      targetType: 'api_key',
      targetId: apiKey.id,
      payload: {
        prefix: apiKey.prefix,
        name: 'batch job',
        models: ['enclave-sim'],
        expiresAt: apiKey.expiresAt,
        owner: { id: erin.id, email: 'erin@example.com' },
      },
    });
    const revoked = events.filter((e) => e.action === 'api_key.revoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ actorId: admin.id, payload: { prefix: apiKey.prefix } });
  });

  it.each([
    [{ name: 'x', expiresIn: '30 days' }, 'invalid_expiry'],
    [{ name: 'x', expiresIn: '0d' }, 'invalid_expiry'],
    [{ name: '' }, 'invalid_body'],
    [{ name: 'x', models: [] }, 'invalid_body'],
    [{ name: 'x', secret: 'mine' }, 'invalid_body'],
  ])('refuses %j with 400 %s and creates no key', async (body, code) => {
    const erin = await createUser(app, `refused-${code}-${Date.now()}@example.com`);
    const before = await accountState(ds);
    const res = await asAdmin().post(`/api/admin/users/${erin.id}/keys`, body).expect(400);
    expect(res.body.error.code).toBe(code);
    expect(await accountState(ds)).toBe(before);
  });

  it('answers 404 for keys of an unknown user or an unknown prefix', async () => {
    const create = await asAdmin()
      .post(`/api/admin/users/${NO_SUCH_ID}/keys`, { name: 'x' })
      .expect(404);
    expect(create.body.error.code).toBe('user_not_found');
    const list = await asAdmin().get(`/api/admin/users/${NO_SUCH_ID}/keys`).expect(404);
    expect(list.body.error.code).toBe('user_not_found');
    const revoke = await asAdmin().delete('/api/admin/keys/ek_00000000').expect(404);
    expect(revoke.body.error.code).toBe('api_key_not_found');
  });
});

describe('self-service /api/keys', () => {
  let frank: PublicUser;
  let grace: PublicUser;
  let frankSession: BrowserSession;
  let graceSession: BrowserSession;
  beforeAll(async () => {
    frank = await createUser(app, 'frank@example.com', 'user');
    grace = await createUser(app, 'grace@example.com', 'auditor');
    frankSession = await signIn(app, 'frank@example.com');
    graceSession = await signIn(app, 'grace@example.com');
  });

  it('lets any signed-in user create, list and revoke only their own keys', async () => {
    const f = await as(frankSession).post('/api/keys', { name: 'frank laptop' }).expect(201);
    const g = await as(graceSession)
      .post('/api/keys', { name: 'grace laptop', expiresIn: '12h' })
      .expect(201);
    expect(f.body.key).toMatch(KEY_PATTERN);
    expect((await bearer(f.body.key).expect(200)).body.user.id).toBe(frank.id);

    const frankList = await as(frankSession).get('/api/keys').expect(200);
    expect(frankList.body.data.map((k: { prefix: string }) => k.prefix)).toEqual([
      f.body.apiKey.prefix,
    ]);
    const graceList = await as(graceSession).get('/api/keys').expect(200);
    expect(graceList.body.data.map((k: { prefix: string }) => k.prefix)).toEqual([
      g.body.apiKey.prefix,
    ]);

    // Someone else's key is answered as if it did not exist, and keeps working.
    const foreign = await as(frankSession).delete(`/api/keys/${g.body.apiKey.prefix}`).expect(404);
    expect(foreign.body.error.code).toBe('api_key_not_found');
    await bearer(g.body.key).expect(200);

    const since = await lastAuditId(ds);
    await as(frankSession).delete(`/api/keys/${f.body.apiKey.prefix}`).expect(204);
    expect((await bearer(f.body.key).expect(401)).body.error.code).toBe('revoked_api_key');
    const [revoked] = await auditSince(ds, since, 'api_key.revoked');
    expect(revoked).toMatchObject({ actorId: frank.id, targetId: f.body.apiKey.id });
    const listed = await as(frankSession).get('/api/keys').expect(200);
    expect(listed.body.data[0].revokedAt).not.toBeNull();
  });

  it('lists and revokes with an API key, but creates keys only from a session', async () => {
    const { key, prefix } = await createKey(app, grace.id);
    const auth = `Bearer ${key}`;
    const listed = await request(app.getHttpServer())
      .get('/api/keys')
      .set('Authorization', auth)
      .expect(200);
    expect(listed.body.data.map((k: { prefix: string }) => k.prefix)).toContain(prefix);
    const create = await request(app.getHttpServer())
      .post('/api/keys')
      .set('Authorization', auth)
      .send({ name: 'from a key' })
      .expect(403);
    expect(create.body.error.code).toBe('session_required');
    await request(app.getHttpServer())
      .delete(`/api/keys/${prefix}`)
      .set('Authorization', auth)
      .expect(204);
    await bearer(key).expect(401);
  });
});
