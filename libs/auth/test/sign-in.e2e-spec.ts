import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { UsersService } from '@enclave/auth';
import { AdminAppModule } from '../../../apps/admin/src/admin.module.js';
import { delayAfter } from '../src/sign-in-throttle.js';
import { startApp } from '../../../test/support/app.js';
import {
  auditSince,
  createUser,
  lastAuditId,
  PASSWORD,
  setCookies,
  TEST_ACTOR,
} from '../../../test/support/auth.js';
import { testConfig } from '../../../test/support/config.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';
import { CSRF_COOKIE, SESSION_COOKIE } from '@enclave/auth';

// Sign-in hardening: progressive waits instead of a lock (per account and per client address),
// the same answers for unknown and known accounts, strong passwords, changing one's own
// password, and one-time passwords that must be changed before anything else.

const ACCOUNT_FREE = 3;
const CLIENT_FREE = 8;
const NEW_PASSWORD = 'violet kettle harbour 1987';

let db: TestDatabase;
let app: INestApplication;
let ds: DataSource;
const http = () => request(app.getHttpServer());

beforeAll(async () => {
  db = await createTestDatabase();
  const config = testConfig({
    DATABASE_URL: db.url,
    AUTH_SIGNIN_FREE_FAILURES: String(ACCOUNT_FREE),
    AUTH_SIGNIN_CLIENT_FREE_FAILURES: String(CLIENT_FREE),
  });
  app = await startApp(AdminAppModule.forRoot(config), config);
  ds = app.get(DataSource);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});
// Each test starts with no waits (they are per client address, and every test is 127.0.0.1).
beforeEach(async () => {
  await ds.query('DELETE FROM sign_in_throttle');
});

/** A sign-in attempt, from the given client address (nginx's X-Forwarded-For, trusted on loopback). */
const attempt = (email: string, password: string, from = '198.51.100.7') =>
  http().post('/api/auth/login').set('x-forwarded-for', from).send({ email, password });

/** Wrong guesses until the answer is a 429; the statuses seen and that answer. */
async function guessUntilWaiting(email: string, from?: string) {
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await attempt(email, 'a wrong guess', from);
    statuses.push(res.status);
    if (res.status === 429) return { statuses, last: res };
  }
  throw new Error(`never made to wait: ${statuses.join(',')}`);
}

/** The wait many more failures would make, set directly (tests do not sleep). */
async function lengthenWait(key: string): Promise<void> {
  await ds.query(
    `UPDATE sign_in_throttle SET blocked_until = now() + interval '10 minutes' WHERE key = $1`,
    [key],
  );
}

/** A browser session from a sign-in response. */
function sessionOf(res: request.Response) {
  const cookies = setCookies(res);
  return {
    cookie: `${SESSION_COOKIE}=${cookies.get(SESSION_COOKIE)!.value}; ${CSRF_COOKIE}=${cookies.get(CSRF_COOKIE)!.value}`,
    csrf: cookies.get(CSRF_COOKIE)!.value,
  };
}

describe('progressive waits instead of a lock', () => {
  it('doubles the wait after the free failures, up to the cap', () => {
    const rule = { freeFailures: 5, maxDelaySeconds: 900 };
    expect([1, 5, 6, 7, 8, 9, 15, 16, 50].map((n) => delayAfter(n, rule))).toEqual([
      0, 0, 1, 2, 4, 8, 512, 900, 900,
    ]);
  });

  it('answers 429 with Retry-After once an account has used its free failures, never 423', async () => {
    const user = await createUser(app, 'target@example.com', 'admin');
    const { statuses, last } = await guessUntilWaiting('target@example.com');
    expect(statuses.slice(0, ACCOUNT_FREE + 1)).toEqual(Array(ACCOUNT_FREE + 1).fill(401));
    expect(statuses).not.toContain(423);
    expect(last.body.error.code).toBe('too_many_sign_ins');
    expect(Number(last.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The right password waits too (so a guess during the wait tells nothing), from anywhere…
    await lengthenWait('account:target@example.com');
    const refused = await attempt('target@example.com', PASSWORD, '198.51.100.200');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(500);
    expect(refused.headers['set-cookie']).toBeUndefined();
    // …but the account is not locked: a password reset clears the wait, as documented.
    const generated = await app.get(UsersService).resetPassword(user.id, TEST_ACTOR, null);
    expect((await attempt('target@example.com', generated)).status).toBe(200);
  });

  it('answers an unknown account exactly like a known one, waits included', async () => {
    await createUser(app, 'real@example.com');
    const known = await guessUntilWaiting('real@example.com', '203.0.113.1');
    const unknown = await guessUntilWaiting('ghost@example.com', '203.0.113.2');
    for (const { statuses } of [known, unknown]) {
      expect(statuses.slice(0, ACCOUNT_FREE + 1)).toEqual(Array(ACCOUNT_FREE + 1).fill(401));
    }
    expect(unknown.last.body).toEqual({
      error: { ...known.last.body.error, message: expect.any(String) },
    });
    expect(unknown.last.body.error.code).toBe('too_many_sign_ins');
  });

  it('slows one client spraying many accounts, each below its own limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < CLIENT_FREE + 6; i++) {
      statuses.push((await attempt(`spray-${i}@example.com`, 'Winter2026!', '192.0.2.99')).status);
    }
    expect(statuses.slice(0, CLIENT_FREE)).toEqual(Array(CLIENT_FREE).fill(401));
    expect(statuses).toContain(429);
    // Another client is not slowed by it.
    await createUser(app, 'bystander@example.com');
    expect((await attempt('bystander@example.com', PASSWORD, '192.0.2.100')).status).toBe(200);
  });
});

describe('changing one’s own password', () => {
  it('needs the current password, refuses a weak or unchanged one, and ends the other sessions', async () => {
    const user = await createUser(app, 'changer@example.com');
    const first = sessionOf(await attempt('changer@example.com', PASSWORD).expect(200));
    const second = sessionOf(await attempt('changer@example.com', PASSWORD).expect(200));
    const change = (body: object) =>
      http()
        .post('/api/auth/password')
        .set('Cookie', first.cookie)
        .set('x-csrf-token', first.csrf)
        .send(body);

    for (const [body, code] of [
      [{ currentPassword: 'not it at all', newPassword: NEW_PASSWORD }, 'wrong_current_password'],
      [{ currentPassword: PASSWORD, newPassword: 'password1234' }, 'weak_password'],
      [{ currentPassword: PASSWORD, newPassword: 'changer@example.com' }, 'weak_password'],
      [{ currentPassword: PASSWORD, newPassword: PASSWORD }, 'same_password'],
      [{ currentPassword: PASSWORD }, 'invalid_body'],
    ] as const) {
      const res = await change(body).expect(400);
      expect(res.body.error.code).toBe(code);
    }
    const since = await lastAuditId(ds);
    await change({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD }).expect(204);
    const [event] = await auditSince(ds, since, 'user.password_changed');
    expect(event).toMatchObject({ actorId: user.id, payload: { otherSessionsEnded: 1 } });
    expect(JSON.stringify(event)).not.toContain(NEW_PASSWORD);

    await http().get('/api/auth/me').set('Cookie', first.cookie).expect(200);
    await http().get('/api/auth/me').set('Cookie', second.cookie).expect(401);
    expect((await attempt('changer@example.com', PASSWORD)).status).toBe(401);
    expect((await attempt('changer@example.com', NEW_PASSWORD)).status).toBe(200);
  });

  it('is refused to an API key (403 session_required)', async () => {
    const user = await createUser(app, 'keyed@example.com');
    const { createKey } = await import('../../../test/support/auth.js');
    const { key } = await createKey(app, user.id);
    const res = await http()
      .post('/api/auth/password')
      .set('authorization', `Bearer ${key}`)
      .send({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD })
      .expect(403);
    expect(res.body.error.code).toBe('session_required');
  });
});

describe('one-time passwords', () => {
  it('must be changed at first sign-in: every other route answers 403 password_change_required', async () => {
    const admin = await createUser(app, 'boss@example.com', 'admin');
    const { generatedPassword } = await app
      .get(UsersService)
      .create({ email: 'newbie@example.com', role: 'admin' }, TEST_ACTOR, null);
    expect(admin.passwordChangeRequired).toBe(false);

    const signedIn = await attempt('newbie@example.com', generatedPassword!).expect(200);
    expect(signedIn.body.passwordChangeRequired).toBe(true);
    const s = sessionOf(signedIn);
    const me = await http().get('/api/auth/me').set('Cookie', s.cookie).expect(200);
    expect(me.body.passwordChangeRequired).toBe(true);
    for (const path of ['/api/admin/users', '/api/keys', '/api/admin/audit/events']) {
      const res = await http().get(path).set('Cookie', s.cookie).expect(403);
      expect(res.body.error.code).toBe('password_change_required');
    }
    await http()
      .post('/api/auth/password')
      .set('Cookie', s.cookie)
      .set('x-csrf-token', s.csrf)
      .send({ currentPassword: generatedPassword, newPassword: NEW_PASSWORD })
      .expect(204);
    await http().get('/api/admin/users').set('Cookie', s.cookie).expect(200);
    const after = await http().get('/api/auth/me').set('Cookie', s.cookie).expect(200);
    expect(after.body.passwordChangeRequired).toBe(false);
  });

  it('applies to the first administrator that bootstrap creates', async () => {
    const fresh = await createTestDatabase();
    const config = testConfig({ DATABASE_URL: fresh.url });
    const other = await startApp(AdminAppModule.forRoot(config), config);
    try {
      const created = await other.get(UsersService).createFirstAdmin(TEST_ACTOR);
      expect(created!.user.passwordChangeRequired).toBe(true);
      const res = await request(other.getHttpServer())
        .post('/api/auth/login')
        .send({ email: created!.user.email, password: created!.generatedPassword })
        .expect(200);
      expect(res.body.passwordChangeRequired).toBe(true);
    } finally {
      await other.close();
      await fresh.drop();
    }
  });
});
