import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { type AuditActor } from '@enclave/audit';
import {
  ApiKeyService,
  type PublicUser,
  type Role,
  UsersService,
  CSRF_COOKIE,
  CSRF_HEADER,
  SESSION_COOKIE,
  SessionService,
} from '@enclave/auth';
import { DataSource as DataSourceToken, type DataSource } from 'typeorm';

export const TEST_ACTOR: AuditActor = { type: 'system', label: 'test' };
export const PASSWORD = 'correct horse battery staple';

/** A signed-in browser: the cookie header to send, and the CSRF token writes must echo. */
export interface BrowserSession {
  cookie: string;
  csrf: string;
}

/** The name=value pairs a response sets, by cookie name (attributes in `attributes`). */
export function setCookies(
  res: request.Response,
): Map<string, { value: string; attributes: string[] }> {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  const cookies = new Map<string, { value: string; attributes: string[] }>();
  for (const line of raw ?? []) {
    const [pair, ...attributes] = line.split(';').map((s) => s.trim());
    const eq = pair!.indexOf('=');
    cookies.set(pair!.slice(0, eq), { value: decodeURIComponent(pair!.slice(eq + 1)), attributes });
  }
  return cookies;
}

export async function signIn(
  app: INestApplication,
  email: string,
  password = PASSWORD,
): Promise<BrowserSession> {
  const res = await request(app.getHttpServer())
    .post('/api/auth/login')
    .send({ email, password })
    .expect(200);
  const cookies = setCookies(res);
  const session = cookies.get(SESSION_COOKIE)!.value;
  const csrf = cookies.get(CSRF_COOKIE)!.value;
  return { cookie: `${SESSION_COOKIE}=${session}; ${CSRF_COOKIE}=${csrf}`, csrf };
}

/** A user with PASSWORD (or another), created as an operator would, through UsersService. */
export async function createUser(
  app: INestApplication,
  email: string,
  role: Role = 'user',
  password = PASSWORD,
): Promise<PublicUser> {
  const { user } = await app.get(UsersService).create({ email, role, password }, TEST_ACTOR, null);
  return user;
}

/** An API key for the user, created through ApiKeyService. */
export async function createKey(
  app: INestApplication,
  userId: string,
  opts: { models?: string[] | null; expiresAt?: Date | null } = {},
): Promise<{ key: string; prefix: string }> {
  const { key, apiKey } = await app
    .get(ApiKeyService)
    .create(
      userId,
      { name: 'test', models: opts.models ?? null, expiresAt: opts.expiresAt ?? null },
      TEST_ACTOR,
      null,
    );
  return { key, prefix: apiKey.prefix };
}

export interface AuditRow {
  id: string;
  action: string;
  outcome: string;
  actorType: string;
  actorId: string | null;
  actorLabel: string | null;
  targetType: string | null;
  targetId: string | null;
  payload: Record<string, unknown>;
}

/** Audit events after the given id (0: all), oldest first, optionally of one action. */
export async function auditSince(
  ds: DataSource,
  afterId: string | number,
  action?: string,
): Promise<AuditRow[]> {
  return ds.query(
    `SELECT id, action, outcome, actor_type AS "actorType", actor_id AS "actorId",
            actor_label AS "actorLabel", target_type AS "targetType", target_id AS "targetId", payload
       FROM audit_events WHERE id > $1 AND ($2::text IS NULL OR action = $2) ORDER BY id`,
    [afterId, action ?? null],
  );
}

export async function lastAuditId(ds: DataSource): Promise<string> {
  const [{ id }] = await ds.query('SELECT coalesce(max(id), 0)::text AS id FROM audit_events');
  return id;
}

/**
 * The state a refused request must not change: accounts, sessions and keys (without the
 * last-seen/last-used times, which successful requests touch in the background).
 */
export async function accountState(ds: DataSource): Promise<string> {
  const [{ state }] = await ds.query(`
    SELECT concat_ws(' / ',
      (SELECT string_agg(concat_ws(',', id, role, password_hash, failed_logins, locked_until, disabled_at), ';' ORDER BY id) FROM users),
      (SELECT string_agg(concat_ws(',', encode(token_hash, 'hex'), user_id, expires_at), ';' ORDER BY token_hash) FROM sessions),
      (SELECT string_agg(concat_ws(',', id, user_id, name, models::text, expires_at, revoked_at), ';' ORDER BY id) FROM api_keys)
    ) AS state`);
  return state;
}

/**
 * Runs a refused request and checks that it left exactly one audit event, of the given action,
 * and changed nothing else. Returns the event.
 */
export async function expectOnlyAudited(
  ds: DataSource,
  action: string,
  refused: () => Promise<unknown>,
): Promise<AuditRow> {
  const before = await accountState(ds);
  const since = await lastAuditId(ds);
  await refused();
  const events = await auditSince(ds, since);
  expect(events.map((e) => e.action)).toEqual([action]);
  expect(await accountState(ds)).toBe(before);
  return events[0]!;
}

/**
 * A signed-in session for the user, written directly (no password hashing), as one string that
 * tests can pass where they pass API keys: `credentials()` turns either into request headers.
 * Admin API writes need a session, not a key.
 */
export async function sessionCredential(app: INestApplication, userId: string): Promise<string> {
  const ds = app.get(DataSourceToken);
  const s = await app.get(SessionService).startSession(
    ds.manager,
    { id: userId, email: '', role: 'user', displayName: null },
    {
      ip: null,
      userAgent: null,
      requestId: null,
    },
  );
  return `session:${s.token}:${s.csrfToken}`;
}

/** Request headers for an API key or a `sessionCredential()`. */
export function credentials(credential: string): Record<string, string> {
  if (!credential.startsWith('session:')) return { authorization: `Bearer ${credential}` };
  const [, token, csrf] = credential.split(':');
  return { cookie: `${SESSION_COOKIE}=${token}`, [CSRF_HEADER]: csrf! };
}
