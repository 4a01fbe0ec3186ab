import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { GroupsRepository, GroupsService, SESSION_COOKIE, SSO_BINDING_COOKIE } from '@enclave/auth';
import type { Config } from '@enclave/config';
import { AdminAppModule } from '../apps/admin/src/admin.module.js';
import { ChatAppModule } from '../apps/chat/src/chat.module.js';
import { startApp } from './support/app.js';
import { auditSince, createUser, lastAuditId, setCookies, TEST_ACTOR } from './support/auth.js';
import { testConfig } from './support/config.js';
import {
  OIDC_CLIENT_ID,
  OIDC_CLIENT_SECRET,
  signInAtProvider,
  startOidcProvider,
  type TestOidcProvider,
} from './support/oidc-provider.js';
import { freePort } from './support/ports.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';

// Single sign-on through a real OpenID provider (oidc-provider) on loopback: the browser's part
// is driven over HTTP with a cookie jar (the provider's login and consent forms), Enclave's part
// through the admin and chat apps on one real Postgres.

const PUBLIC_URL = 'https://enclave.example.test';
const REDIRECT_URI = `${PUBLIC_URL}/api/auth/oidc/callback`;
const ROLE_MAP = 'enclave-admins:admin,enclave-auditors:auditor,staff:user';

let db: TestDatabase;
let idp: TestOidcProvider;
let ssoEnv: Record<string, string>;
let admin: INestApplication;
let chat: INestApplication;
let ds: DataSource;

beforeAll(async () => {
  db = await createTestDatabase();
  idp = await startOidcProvider([REDIRECT_URI]);
  ssoEnv = {
    DATABASE_URL: db.url,
    ENCLAVE_PUBLIC_URL: PUBLIC_URL,
    ENCLAVE_OIDC_ISSUER: idp.issuer,
    ENCLAVE_OIDC_CLIENT_ID: OIDC_CLIENT_ID,
    ENCLAVE_OIDC_CLIENT_SECRET: OIDC_CLIENT_SECRET,
    ENCLAVE_OIDC_ROLE_MAP: ROLE_MAP,
    ENCLAVE_OIDC_LABEL: 'Corp SSO',
    ENCLAVE_OIDC_GROUP_MAP: 'legal-staff:Legal,interns:Interns',
  };
  const config = testConfig(ssoEnv);
  admin = await startApp(AdminAppModule.forRoot(config), config);
  chat = await startApp(ChatAppModule.forRoot(config), config);
  ds = admin.get(DataSource);
});
afterAll(async () => {
  await chat?.close();
  await admin?.close();
  await idp?.close();
  await db?.drop();
});

/** The redirect to the provider: its Location and the cookie binding the sign-in to the browser. */
async function startSignIn(app: INestApplication, returnTo?: string) {
  const res = await request(app.getHttpServer())
    .get('/api/auth/oidc/login')
    .query(returnTo === undefined ? {} : { returnTo })
    .expect(302);
  const binding = setCookies(res).get(SSO_BINDING_COOKIE)!;
  expect(binding.attributes).toEqual(
    expect.arrayContaining(['Path=/api/auth/oidc', 'HttpOnly', 'SameSite=Lax']),
  );
  return { location: res.headers.location as string, binding: binding.value };
}

/** The provider's callback as the browser would send it (path and query), with the binding cookie. */
function callback(app: INestApplication, callbackUrl: string, binding: string | null) {
  const url = new URL(callbackUrl);
  const req = request(app.getHttpServer()).get(`${url.pathname}${url.search}`);
  return binding ? req.set('Cookie', `${SSO_BINDING_COOKIE}=${binding}`) : req;
}

/** A whole sign-in of the provider's account `subject`; the callback's response. */
async function ssoSignIn(app: INestApplication, subject: string, returnTo?: string) {
  const { location, binding } = await startSignIn(app, returnTo);
  expect(location.startsWith(`${idp.issuer}/auth?`)).toBe(true);
  const callbackUrl = await signInAtProvider(location, subject, REDIRECT_URI);
  return callback(app, callbackUrl, binding);
}

function sessionCookie(res: request.Response): string | undefined {
  return setCookies(res).get(SESSION_COOKIE)?.value;
}

async function me(app: INestApplication, session: string) {
  const res = await request(app.getHttpServer())
    .get('/api/auth/me')
    .set('Cookie', `${SESSION_COOKIE}=${session}`)
    .expect(200);
  return res.body.user as { id: string; email: string; role: string };
}

async function userRow(email: string) {
  const rows = await ds.query(
    `SELECT id, role, password_hash AS "passwordHash", oidc_issuer AS "oidcIssuer",
            oidc_subject AS "oidcSubject" FROM users WHERE email = $1`,
    [email],
  );
  return rows[0];
}

describe('single sign-on', () => {
  it('tells the sign-in pages that SSO is on, with its label', async () => {
    const res = await request(admin.getHttpServer()).get('/api/auth/config').expect(200);
    // The console links to the chat at the public URL users reach it at.
    expect(res.body).toEqual({
      localLogin: true,
      sso: { enabled: true, label: 'Corp SSO' },
      chatUrl: 'https://enclave.example.test/',
    });
  });

  it('sends the authorization request with PKCE (S256), state and nonce to the provider', async () => {
    const { location } = await startSignIn(admin, '/admin/');
    const url = new URL(location);
    expect(url.searchParams.get('client_id')).toBe(OIDC_CLIENT_ID);
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('state')).toBeTruthy();
    expect(url.searchParams.get('nonce')).toBeTruthy();
  });

  it('signs an admin in to the console: a new user with the mapped role and a normal session', async () => {
    idp.accounts.set('alice-sub', {
      email: 'Alice@Corp.Example',
      name: 'Alice Admin',
      groups: ['staff', 'enclave-admins'],
    });
    const since = await lastAuditId(ds);
    const res = await ssoSignIn(admin, 'alice-sub', '/admin/');

    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/admin/');
    const cookies = setCookies(res);
    expect(cookies.get(SESSION_COOKIE)!.attributes).toEqual(
      expect.arrayContaining(['HttpOnly', 'SameSite=Strict']),
    );
    expect(cookies.get('enclave_csrf')?.value).toBeTruthy();
    const user = await me(admin, sessionCookie(res)!);
    expect(user).toMatchObject({ email: 'alice@corp.example', role: 'admin' });
    // Linked by issuer + subject, with no password to guess.
    expect(await userRow('alice@corp.example')).toEqual({
      id: user.id,
      role: 'admin',
      passwordHash: null,
      oidcIssuer: idp.issuer,
      oidcSubject: 'alice-sub',
    });
    // The session works for the admin API (a user-level route would also do: this one needs admin).
    await request(admin.getHttpServer())
      .get('/api/admin/users')
      .set('Cookie', `${SESSION_COOKIE}=${sessionCookie(res)}`)
      .expect(200);

    const events = await auditSince(ds, since);
    expect(events.map((e) => e.action)).toEqual(['auth.sso.user_created', 'auth.sso.login']);
    expect(events[0]).toMatchObject({
      actorType: 'system',
      actorLabel: 'sso',
      targetId: user.id,
      payload: { email: 'alice@corp.example', role: 'admin', subject: 'alice-sub' },
    });
    expect(events[1]).toMatchObject({ actorId: user.id, outcome: 'success' });
  });

  it('signs a staff member in to the chat UI with the user role, which the admin API refuses', async () => {
    idp.accounts.set('bob-sub', { email: 'bob@corp.example', groups: ['staff'] });
    const res = await ssoSignIn(chat, 'bob-sub');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/');
    const session = sessionCookie(res)!;
    expect(await me(chat, session)).toMatchObject({ email: 'bob@corp.example', role: 'user' });
    await request(admin.getHttpServer())
      .get('/api/admin/users')
      .set('Cookie', `${SESSION_COOKIE}=${session}`)
      .expect(403);
  });

  it('refuses someone whose groups map to no role with a page saying so: no user, no session, audited', async () => {
    idp.accounts.set('carol-sub', { email: 'carol@corp.example', groups: ['contractors'] });
    const since = await lastAuditId(ds);
    const res = await ssoSignIn(admin, 'carol-sub', '/admin/');

    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('has no Enclave role');
    expect(res.text).toContain('carol@corp.example');
    expect(res.text).toContain('Ask your Enclave administrator');
    expect(res.text).toContain('sso_no_role');
    expect(sessionCookie(res)).toBeFalsy();
    expect(await userRow('carol@corp.example')).toBeUndefined();
    const events = await auditSince(ds, since);
    expect(events.map((e) => e.action)).toEqual(['auth.sso.refused']);
    expect(events[0]).toMatchObject({
      outcome: 'failure',
      actorType: 'anonymous',
      payload: { reason: 'no_role', subject: 'carol-sub', claim: ['contractors'] },
    });
  });

  it('applies a role change made at the provider on the next sign-in, audited as a role change', async () => {
    idp.accounts.set('dave-sub', { email: 'dave@corp.example', groups: ['enclave-admins'] });
    const first = await ssoSignIn(admin, 'dave-sub', '/admin/');
    const { id } = await me(admin, sessionCookie(first)!);

    idp.accounts.set('dave-sub', { email: 'dave@corp.example', groups: ['enclave-auditors'] });
    const since = await lastAuditId(ds);
    const second = await ssoSignIn(admin, 'dave-sub', '/admin/');
    expect(second.status).toBe(302);
    expect(await me(admin, sessionCookie(second)!)).toMatchObject({ id, role: 'auditor' });
    const events = await auditSince(ds, since);
    expect(events.map((e) => e.action)).toEqual(['user.role_changed', 'auth.sso.login']);
    expect(events[0]!.payload).toEqual({ before: 'admin', after: 'auditor', via: 'sso' });
  });

  it('puts a user in the groups their claim maps to at each sign-in, keeping groups added by hand', async () => {
    idp.accounts.set('groupie-sub', {
      email: 'groupie@corp.example',
      groups: ['staff', 'legal-staff'],
    });
    const first = await ssoSignIn(chat, 'groupie-sub');
    const { id } = await me(chat, sessionCookie(first)!);
    const groups = admin.get(GroupsService);
    const membership = async () =>
      (await admin.get(GroupsRepository).groupsOfUser(id)).map((g) => `${g.name}:${g.via}`);
    expect(await membership()).toEqual(['Legal:sso']);

    const manual = await groups.create({ name: 'Board' }, TEST_ACTOR, null);
    await groups.addMember(manual.id, id, TEST_ACTOR, null);
    idp.accounts.set('groupie-sub', {
      email: 'groupie@corp.example',
      groups: ['staff', 'interns'],
    });
    const since = await lastAuditId(ds);
    expect((await ssoSignIn(chat, 'groupie-sub')).status).toBe(302);
    expect(await membership()).toEqual(['Board:manual', 'Interns:sso']);
    const events = await auditSince(ds, since);
    expect(
      events.map((e) => [
        e.action,
        e.actorLabel,
        e.payload.group ?? (e.payload.after as { name?: string } | undefined)?.name,
      ]),
    ).toEqual([
      ['admin.group.created', 'sso', 'Interns'],
      ['admin.group.member_added', 'sso', 'Interns'],
      ['admin.group.member_removed', 'sso', 'Legal'],
      ['auth.sso.login', 'groupie@corp.example', undefined],
    ]);
  });

  it('refuses a callback whose state was tampered with, and burns the pending sign-in', async () => {
    idp.accounts.set('erin-sub', { email: 'erin@corp.example', groups: ['staff'] });
    const { location, binding } = await startSignIn(admin, '/');
    const callbackUrl = new URL(await signInAtProvider(location, 'erin-sub', REDIRECT_URI));
    const state = callbackUrl.searchParams.get('state')!;
    const tampered = new URL(callbackUrl);
    tampered.searchParams.set('state', `${state}x`);
    const since = await lastAuditId(ds);

    const res = await callback(admin, tampered.href, binding).expect(400);
    expect(res.text).toContain('sso_state_invalid');
    expect(res.text).not.toMatch(/\bat \S+ \(/); // no stack trace
    expect(sessionCookie(res)).toBeFalsy();
    // The genuine callback cannot be used afterwards either: the sign-in starts over.
    await callback(admin, callbackUrl.href, binding).expect(400);
    expect(await userRow('erin@corp.example')).toBeUndefined();
    const events = await auditSince(ds, since, 'auth.sso.refused');
    expect(events.map((e) => e.payload.reason)).toEqual(['state_mismatch', 'no_pending_login']);
  });

  it('refuses a callback opened in a browser that did not start the sign-in (login CSRF)', async () => {
    idp.accounts.set('frank-sub', { email: 'frank@corp.example', groups: ['staff'] });
    const { location } = await startSignIn(admin, '/');
    const callbackUrl = await signInAtProvider(location, 'frank-sub', REDIRECT_URI);
    const res = await callback(admin, callbackUrl, null).expect(400);
    expect(res.text).toContain('sso_state_invalid');
    expect(sessionCookie(res)).toBeFalsy();
  });

  it.each(['https://evil.example/', '//evil.example/admin', '/\\evil.example', 'admin'])(
    'refuses returnTo=%s, which is not a path on this site',
    async (returnTo) => {
      const res = await request(admin.getHttpServer())
        .get('/api/auth/oidc/login')
        .query({ returnTo })
        .expect(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.text).toContain('invalid_return_to');
    },
  );

  it("shows the provider's refusal (the person cancelled) as a page, audited", async () => {
    const { location, binding } = await startSignIn(admin, '/');
    const state = new URL(location).searchParams.get('state')!;
    const since = await lastAuditId(ds);
    const cancelled = new URL(REDIRECT_URI);
    cancelled.search = new URLSearchParams({
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
      state,
      iss: idp.issuer,
    }).toString();
    const res = await callback(admin, cancelled.href, binding).expect(401);
    expect(res.text).toContain('sso_provider_refused');
    expect(res.text).toContain('access_denied');
    expect(sessionCookie(res)).toBeFalsy();
    const events = await auditSince(ds, since, 'auth.sso.refused');
    expect(events.map((e) => e.payload.reason)).toEqual(['sso_provider_refused']);
  });

  it('refuses a disabled SSO user although the provider still lists them', async () => {
    idp.accounts.set('kim-sub', { email: 'kim@corp.example', groups: ['staff'] });
    const first = await ssoSignIn(chat, 'kim-sub');
    const { id } = await me(chat, sessionCookie(first)!);
    await ds.query('UPDATE users SET disabled_at = now() WHERE id = $1', [id]);
    const since = await lastAuditId(ds);
    const res = await ssoSignIn(chat, 'kim-sub');
    expect(res.status).toBe(403);
    expect(res.text).toContain('account_disabled');
    expect(sessionCookie(res)).toBeFalsy();
    const events = await auditSince(ds, since, 'auth.sso.refused');
    expect(events[0]).toMatchObject({ actorId: id, payload: { reason: 'disabled' } });
  });

  it('does not take over a password account with the same email', async () => {
    await createUser(admin, 'grace@corp.example', 'user');
    idp.accounts.set('grace-sub', { email: 'grace@corp.example', groups: ['enclave-admins'] });
    const res = await ssoSignIn(admin, 'grace-sub', '/admin/');
    expect(res.status).toBe(409);
    expect(res.text).toContain('sso_email_taken');
    expect(sessionCookie(res)).toBeFalsy();
    expect((await userRow('grace@corp.example')).role).toBe('user');
  });
});

describe('single sign-on configuration', () => {
  let app: INestApplication;
  afterEach(async () => app?.close());

  async function start(env: Record<string, string>): Promise<Config> {
    const config = testConfig({ ...ssoEnv, ...env });
    app = await startApp(AdminAppModule.forRoot(config), config);
    return config;
  }

  it('refuses password sign-in with a stable code when local login is off', async () => {
    await start({ ENCLAVE_LOCAL_LOGIN: 'false' });
    await createUser(app, 'henry@corp.example', 'admin');
    const res = await request(app.getHttpServer())
      .post('/api/auth/login')
      .send({ email: 'henry@corp.example', password: 'correct horse battery staple' })
      .expect(403);
    expect(res.body.error.code).toBe('local_login_disabled');
    expect(sessionCookie(res)).toBeFalsy();
    const config = await request(app.getHttpServer()).get('/api/auth/config').expect(200);
    expect(config.body).toEqual({
      localLogin: false,
      sso: { enabled: true, label: 'Corp SSO' },
      chatUrl: 'https://enclave.example.test/',
    });
  });

  it('shows a page, not a stack trace, when the provider cannot be reached', async () => {
    const closedPort = await freePort();
    await start({ ENCLAVE_OIDC_ISSUER: `http://127.0.0.1:${closedPort}` });
    const since = await lastAuditId(ds);
    const res = await request(app.getHttpServer())
      .get('/api/auth/oidc/login')
      .query({ returnTo: '/admin/' })
      .expect(502);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('sso_unavailable');
    expect(res.text).not.toMatch(/\bat \S+ \(/);
    const events = await auditSince(ds, since, 'auth.sso.refused');
    expect(events.map((e) => e.payload.reason)).toEqual(['sso_unavailable']);
  });

  it("shows a page when the provider does not accept Enclave's client secret", async () => {
    await start({ ENCLAVE_OIDC_CLIENT_SECRET: 'not-the-registered-secret' });
    idp.accounts.set('lee-sub', { email: 'lee@corp.example', groups: ['staff'] });
    const res = await ssoSignIn(app, 'lee-sub');
    expect(res.status).toBe(401);
    expect(res.text).toContain('sso_verification_failed');
    expect(res.text).not.toMatch(/\bat \S+ \(/);
    expect(sessionCookie(res)).toBeFalsy();
  });

  it('answers 404 sso_disabled, and says so in /api/auth/config, without SSO', async () => {
    const config = testConfig({ DATABASE_URL: db.url });
    app = await startApp(AdminAppModule.forRoot(config), config);
    const res = await request(app.getHttpServer()).get('/api/auth/oidc/login').expect(404);
    expect(res.text).toContain('sso_disabled');
    const options = await request(app.getHttpServer()).get('/api/auth/config').expect(200);
    expect(options.body).toMatchObject({ localLogin: true, sso: { enabled: false, label: null } });
  });
});
