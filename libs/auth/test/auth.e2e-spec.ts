import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  ApiKeyService,
  ApiKeysRepository,
  CSRF_COOKIE,
  generateApiKey,
  SESSION_COOKIE,
  UsersService,
} from '@enclave/auth';
import type { Config } from '@enclave/config';
import { AdminAppModule } from '../../../apps/admin/src/admin.module.js';
import { startApp } from '../../../test/support/app.js';
import {
  accountState,
  auditSince,
  createKey,
  createUser,
  expectOnlyAudited,
  lastAuditId,
  PASSWORD,
  setCookies,
  signIn,
  TEST_ACTOR,
} from '../../../test/support/auth.js';
import { testConfig } from '../../../test/support/config.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';

// Sign-in, sessions, CSRF and API keys through a real app on a real Postgres: what a
// browser and an API client see, and what the audit trail and the tables hold afterwards.

let db: TestDatabase;
let config: Config;
let app: INestApplication;
let ds: DataSource;
const http = () => request(app.getHttpServer());

beforeAll(async () => {
  db = await createTestDatabase();
  config = testConfig({ DATABASE_URL: db.url });
  app = await startApp(AdminAppModule.forRoot(config), config);
  ds = app.get(DataSource);
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

async function sessionCount(userId: string): Promise<number> {
  const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [
    userId,
  ]);
  return n;
}

describe('password sign-in', () => {
  it('sets an httpOnly SameSite=Strict session cookie and a readable CSRF cookie; /me answers', async () => {
    const user = await createUser(app, 'signin@example.com');
    const since = await lastAuditId(ds);
    const res = await http()
      .post('/api/auth/login')
      .send({ email: 'SignIn@Example.com', password: PASSWORD })
      .expect(200);
    expect(res.body.user).toEqual({
      id: user.id,
      email: 'signin@example.com',
      role: 'user',
      displayName: null,
    });
    const cookies = setCookies(res);
    const session = cookies.get(SESSION_COOKIE)!;
    const csrf = cookies.get(CSRF_COOKIE)!;
    expect(session.attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict']));
    expect(csrf.attributes).toContain('SameSite=Strict');
    expect(csrf.attributes).not.toContain('HttpOnly');
    expect(csrf.value).toBe(res.body.csrfToken);
    expect(session.value).not.toBe(csrf.value);

    const me = await http()
      .get('/api/auth/me')
      .set('Cookie', `${SESSION_COOKIE}=${session.value}`)
      .expect(200);
    expect(me.body).toEqual({
      user: { id: user.id, email: 'signin@example.com', role: 'user' },
      via: 'session',
      csrfToken: csrf.value,
      passwordChangeRequired: false,
    });
    const events = await auditSince(ds, since);
    expect(events.map((e) => e.action)).toEqual(['auth.login.succeeded']);
    expect(events[0]).toMatchObject({ actorId: user.id, outcome: 'success' });
    // The session is stored by the hash of its token only.
    const [row] = await ds.query(
      `SELECT count(*)::int AS n FROM sessions s WHERE s::text LIKE '%' || $1 || '%'`,
      [session.value],
    );
    expect(row.n).toBe(0);
  });

  it('refuses a wrong password with 401 invalid_credentials, one audit event, no session', async () => {
    const user = await createUser(app, 'wrong@example.com');
    const since = await lastAuditId(ds);
    const res = await http()
      .post('/api/auth/login')
      .send({ email: 'wrong@example.com', password: 'not the password' })
      .expect(401);
    expect(res.body.error.code).toBe('invalid_credentials');
    expect(res.headers['set-cookie']).toBeUndefined();
    const events = await auditSince(ds, since);
    expect(events.map((e) => [e.action, e.payload.reason])).toEqual([
      ['auth.login.failed', 'wrong_password'],
    ]);
    expect(await sessionCount(user.id)).toBe(0);
  });

  it('answers an unknown email exactly like a wrong password, and changes nothing', async () => {
    await createUser(app, 'known@example.com');
    const wrong = await http()
      .post('/api/auth/login')
      .send({ email: 'known@example.com', password: 'not the password' })
      .expect(401);
    const event = await expectOnlyAudited(ds, 'auth.login.failed', async () => {
      const unknown = await http()
        .post('/api/auth/login')
        .send({ email: 'nobody@example.com', password: 'not the password' })
        .expect(401);
      expect(unknown.body).toEqual(wrong.body);
    });
    expect(event).toMatchObject({ actorType: 'anonymous', payload: { reason: 'unknown_email' } });
  });

  it('stores the password only as an argon2id hash', async () => {
    const user = await createUser(app, 'hash@example.com');
    const [row] = await ds.query(
      `SELECT password_hash AS "passwordHash", u::text LIKE '%' || $2 || '%' AS "plain"
         FROM users u WHERE id = $1`,
      [user.id, PASSWORD],
    );
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row.plain).toBe(false);
  });
});

describe('sessions', () => {
  it('refuses a cookie-authenticated write without the CSRF header (403 csrf_failed) and accepts it with', async () => {
    await createUser(app, 'csrf@example.com');
    const s = await signIn(app, 'csrf@example.com');
    const body = { name: 'from the browser' };
    const refused = await expectOnlyAudited(ds, 'auth.request.denied', async () => {
      const res = await http().post('/api/keys').set('Cookie', s.cookie).send(body).expect(403);
      expect(res.body.error.code).toBe('csrf_failed');
    });
    expect(refused.payload).toMatchObject({ status: 403, code: 'csrf_failed' });
    await expectOnlyAudited(ds, 'auth.request.denied', () =>
      http()
        .post('/api/keys')
        .set('Cookie', s.cookie)
        .set('x-csrf-token', 'x'.repeat(s.csrf.length))
        .send(body)
        .expect(403),
    );
    const ok = await http()
      .post('/api/keys')
      .set('Cookie', s.cookie)
      .set('x-csrf-token', s.csrf)
      .send(body)
      .expect(201);
    expect(ok.body.apiKey.name).toBe('from the browser');
  });

  it('ends the session on logout: the cookie then gets 401 session_expired', async () => {
    const user = await createUser(app, 'logout@example.com');
    const s = await signIn(app, 'logout@example.com');
    await http().get('/api/auth/me').set('Cookie', s.cookie).expect(200);
    const since = await lastAuditId(ds);
    const out = await http().post('/api/auth/logout').set('Cookie', s.cookie).expect(204);
    const cleared = setCookies(out);
    expect(cleared.get(SESSION_COOKIE)!.value).toBe('');
    expect(await sessionCount(user.id)).toBe(0);
    expect((await auditSince(ds, since)).map((e) => e.action)).toEqual(['auth.logout']);

    await expectOnlyAudited(ds, 'auth.request.denied', async () => {
      const res = await http().get('/api/auth/me').set('Cookie', s.cookie).expect(401);
      expect(res.body.error.code).toBe('session_expired');
    });
  });
});

describe('a disabled user', () => {
  it('cannot sign in, loses their sessions, and their API keys stop working', async () => {
    const user = await createUser(app, 'disabled@example.com');
    const { key } = await createKey(app, user.id);
    const s = await signIn(app, 'disabled@example.com');
    await http().get('/api/auth/me').set('Authorization', `Bearer ${key}`).expect(200);

    await app.get(UsersService).setDisabled(user.id, true, TEST_ACTOR, null);
    expect(await sessionCount(user.id)).toBe(0);

    await expectOnlyAudited(ds, 'auth.request.denied', async () => {
      const res = await http().get('/api/auth/me').set('Cookie', s.cookie).expect(401);
      expect(res.body.error.code).toBe('session_expired');
    });
    await expectOnlyAudited(ds, 'auth.request.denied', async () => {
      const res = await http()
        .get('/api/auth/me')
        .set('Authorization', `Bearer ${key}`)
        .expect(401);
      expect(res.body.error.code).toBe('account_disabled');
    });
    const event = await expectOnlyAudited(ds, 'auth.login.failed', async () => {
      const res = await http()
        .post('/api/auth/login')
        .send({ email: 'disabled@example.com', password: PASSWORD })
        .expect(401);
      expect(res.body.error.code).toBe('account_disabled');
      expect(res.headers['set-cookie']).toBeUndefined();
    });
    expect(event.payload.reason).toBe('disabled');

    // Enabled again, the same key works: disabling suspends keys, it does not revoke them.
    await app.get(UsersService).setDisabled(user.id, false, TEST_ACTOR, null);
    await http().get('/api/auth/me').set('Authorization', `Bearer ${key}`).expect(200);
  });
});

describe('API keys', () => {
  let userId: string;
  beforeAll(async () => {
    userId = (await createUser(app, 'keys@example.com')).id;
  });

  it('authenticate as their owner', async () => {
    const { key, prefix } = await createKey(app, userId);
    const res = await http().get('/api/auth/me').set('Authorization', `Bearer ${key}`).expect(200);
    expect(res.body).toEqual({
      user: { id: userId, email: 'keys@example.com', role: 'user' },
      via: 'api_key',
      csrfToken: null,
      passwordChangeRequired: false,
    });
    expect(prefix).toBe(key.slice(0, 11));
  });

  it.each([
    ['no credentials', null, 'missing_credentials'],
    ['a malformed Authorization header', 'Basic Zm9vOmJhcg==', 'invalid_authorization'],
    ['a garbage key', 'Bearer not-a-key', 'invalid_api_key'],
    ['an unknown key', `Bearer ${generateApiKey().key}`, 'invalid_api_key'],
  ])('refuses %s with 401, one audit event and no other change', async (_what, header, code) => {
    const event = await expectOnlyAudited(ds, 'auth.request.denied', async () => {
      const req = http().get('/api/auth/me');
      if (header) req.set('Authorization', header);
      const res = await req.expect(401);
      expect(res.body.error.code).toBe(code);
    });
    expect(event).toMatchObject({
      actorType: 'anonymous',
      outcome: 'denied',
      targetId: 'GET /api/auth/me',
      payload: { status: 401, code },
    });
  });

  it('refuses a key whose secret part is wrong, though its prefix exists', async () => {
    const { key } = await createKey(app, userId);
    const forged = key.slice(0, 12) + (key[12] === 'A' ? 'B' : 'A') + key.slice(13);
    await expectOnlyAudited(ds, 'auth.request.denied', async () => {
      const res = await http()
        .get('/api/auth/me')
        .set('Authorization', `Bearer ${forged}`)
        .expect(401);
      expect(res.body.error.code).toBe('invalid_api_key');
    });
  });

  it('refuses an expired key with 401 expired_api_key', async () => {
    const { key, prefix, secretHash } = generateApiKey();
    await app.get(ApiKeysRepository).insert(ds.manager, {
      userId,
      name: 'expired',
      prefix,
      secretHash,
      models: null,
      expiresAt: new Date(Date.now() - 60_000),
    });
    const event = await expectOnlyAudited(ds, 'auth.request.denied', async () => {
      const res = await http()
        .get('/api/auth/me')
        .set('Authorization', `Bearer ${key}`)
        .expect(401);
      expect(res.body.error.code).toBe('expired_api_key');
    });
    expect(event.payload.keyPrefix).toBe(prefix);
  });

  it('refuses a revoked key with 401 revoked_api_key', async () => {
    const { key, prefix } = await createKey(app, userId);
    await http().get('/api/auth/me').set('Authorization', `Bearer ${key}`).expect(200);
    await app.get(ApiKeyService).revoke(prefix, TEST_ACTOR, null);
    await expectOnlyAudited(ds, 'auth.request.denied', async () => {
      const res = await http()
        .get('/api/auth/me')
        .set('Authorization', `Bearer ${key}`)
        .expect(401);
      expect(res.body.error.code).toBe('revoked_api_key');
    });
  });

  it('are stored without their plaintext, which no audit event contains either', async () => {
    await createUser(app, 'plaintext@example.com');
    const s = await signIn(app, 'plaintext@example.com');
    const res = await http()
      .post('/api/keys')
      .set('Cookie', s.cookie)
      .set('x-csrf-token', s.csrf)
      .send({ name: 'laptop', models: ['enclave-sim'], expiresIn: '30d' })
      .expect(201);
    const { key, apiKey } = res.body;
    expect(key).toMatch(/^ek_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    const secret = key.slice(12);
    const count = async (sql: string, needle: string) =>
      (await ds.query(sql, [needle]))[0].n as number;
    const inKeys = `SELECT count(*)::int AS n FROM api_keys k WHERE k::text LIKE '%' || $1 || '%'`;
    const inAudit = `SELECT count(*)::int AS n FROM audit_events e WHERE e::text LIKE '%' || $1 || '%'`;
    // The check can see what is there: the prefix is stored (and audited) on purpose.
    expect(await count(inKeys, apiKey.prefix)).toBe(1);
    expect(await count(inAudit, apiKey.prefix)).toBeGreaterThan(0);
    for (const needle of [key, secret]) {
      expect(await count(inKeys, needle)).toBe(0);
      expect(await count(inAudit, needle)).toBe(0);
    }
    expect(apiKey).not.toHaveProperty('secretHash');
    // And the key works, limited as asked.
    await http().get('/api/auth/me').set('Authorization', `Bearer ${key}`).expect(200);
    const [row] = await ds.query(
      'SELECT models, expires_at AS "expiresAt" FROM api_keys WHERE prefix = $1',
      [apiKey.prefix],
    );
    expect(row.models).toEqual(['enclave-sim']);
    expect(Math.abs(row.expiresAt.getTime() - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);
  });

  it('cannot create another key (403 session_required): a limited key must not mint an unlimited one', async () => {
    const { key } = await createKey(app, userId, { models: ['enclave-sim'] });
    await expectOnlyAudited(ds, 'auth.request.denied', async () => {
      const res = await http()
        .post('/api/keys')
        .set('Authorization', `Bearer ${key}`)
        .send({ name: 'escalate' })
        .expect(403);
      expect(res.body.error.code).toBe('session_required');
    });
  });
});

describe('the "nothing else changed" check', () => {
  it('notices a change when there is one, so the checks above can fail', async () => {
    const before = await accountState(ds);
    await createUser(app, 'control@example.com');
    expect(await accountState(ds)).not.toBe(before);
  });
});
