import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  CSRF_HEADER,
  type PublicUser,
  type Role,
  ROLES,
  SESSION_COOKIE,
  SessionService,
} from '@enclave/auth';
import { AdminAppModule } from '../src/admin.module.js';
import { routesOf, startApp } from '../../../test/support/app.js';
import { createUser, PASSWORD } from '../../../test/support/auth.js';
import { testConfig } from '../../../test/support/config.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';

// The authorization matrix of the admin app: every route Express actually serves × {no session,
// user, auditor, admin}, called for real, against the rules below. A route without a rule fails,
// and so does a rule for a route that does not exist.

/** Who may call a route: anyone (no session needed), any signed-in role, or only these roles. */
type Access = 'public' | 'signed-in' | readonly Role[];
const ADMIN = ['admin'] as const;
const ADMIN_AUDITOR = ['admin', 'auditor'] as const;

/**
 * The rules, one line per route as `METHOD /path` with the router's `:param` names. A new route
 * needs a line here; its request is sent with made-up path ids (see PARAMS) and BODIES[route] or
 * `{}`: the guard runs before validation, so an allowed role gets a 400/404 at worst.
 */
const RULES: Record<string, Access> = {
  // The answer for unknown paths (404 `not_found`), on every method: it must not need a session.
  'ALL {/*splat}': 'public',
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'public',
  'GET /api/auth/config': 'public',
  'POST /api/auth/login': 'public',
  'POST /api/auth/logout': 'public',
  'GET /api/auth/me': 'signed-in',
  'POST /api/auth/password': 'signed-in',
  'GET /api/auth/oidc/login': 'public',
  'GET /api/auth/oidc/callback': 'public',
  'GET /api/keys': 'signed-in',
  'POST /api/keys': 'signed-in',
  'DELETE /api/keys/:prefix': 'signed-in',
  'GET /api/admin/users': ADMIN,
  'POST /api/admin/users': ADMIN,
  'GET /api/admin/users/:id': ADMIN,
  'PATCH /api/admin/users/:id': ADMIN,
  'POST /api/admin/users/:id/reset-password': ADMIN,
  'GET /api/admin/users/:id/keys': ADMIN,
  'POST /api/admin/users/:id/keys': ADMIN,
  'DELETE /api/admin/keys/:prefix': ADMIN,
  'GET /api/admin/feedback': ADMIN_AUDITOR,
  'GET /api/admin/quotas': ADMIN,
  'PUT /api/admin/quotas': ADMIN,
  'DELETE /api/admin/quotas': ADMIN,
  'GET /api/admin/usage': ADMIN_AUDITOR,
  'GET /api/admin/groups': ADMIN_AUDITOR,
  'POST /api/admin/groups': ADMIN,
  'GET /api/admin/groups/:id': ADMIN_AUDITOR,
  'PATCH /api/admin/groups/:id': ADMIN,
  'DELETE /api/admin/groups/:id': ADMIN,
  'PUT /api/admin/groups/:id/members/:userId': ADMIN,
  'DELETE /api/admin/groups/:id/members/:userId': ADMIN,
  'GET /api/admin/model-entitlements': ADMIN_AUDITOR,
  'PUT /api/admin/model-access': ADMIN,
  'PUT /api/admin/prices': ADMIN,
  'GET /api/admin/prices': ADMIN_AUDITOR,
  'GET /api/admin/budgets': ADMIN_AUDITOR,
  'PUT /api/admin/budgets': ADMIN,
  'DELETE /api/admin/budgets/:id': ADMIN,
  'GET /api/admin/reports/usage': ADMIN_AUDITOR,
  'GET /api/admin/backends': ADMIN,
  'POST /api/admin/backends': ADMIN,
  'PATCH /api/admin/backends/:id': ADMIN,
  'DELETE /api/admin/backends/:id': ADMIN,
  'POST /api/admin/backends/:id/test': ADMIN,
  'GET /api/admin/aliases': ADMIN,
  'PUT /api/admin/aliases/:alias': ADMIN,
  'DELETE /api/admin/aliases/:alias': ADMIN,
  'GET /api/admin/dashboard': ADMIN_AUDITOR,
  'GET /api/admin/policies': ADMIN_AUDITOR,
  'PATCH /api/admin/policies': ADMIN,
  'GET /api/admin/conversations': ADMIN_AUDITOR,
  'POST /api/admin/conversations/:id/open': ADMIN_AUDITOR,
  'GET /api/admin/presets': ADMIN,
  'POST /api/admin/presets': ADMIN,
  'DELETE /api/admin/presets/:id': ADMIN,
  'GET /api/admin/prompt-templates': ADMIN,
  'POST /api/admin/prompt-templates': ADMIN,
  'DELETE /api/admin/prompt-templates/:id': ADMIN,
  'GET /api/admin/audit/events': ADMIN_AUDITOR,
  'GET /api/admin/audit/status': ADMIN_AUDITOR,
  'POST /api/admin/audit/verifications': ADMIN_AUDITOR,
  'GET /api/admin/audit/verifications': ADMIN_AUDITOR,
  'GET /api/admin/audit/verifications/:id': ADMIN_AUDITOR,
  'GET /api/admin/audit/exports': ADMIN_AUDITOR,
  'POST /api/admin/audit/exports': ADMIN_AUDITOR,
  'GET /api/admin/audit/exports/:id': ADMIN_AUDITOR,
  'GET /api/admin/audit/exports/:id/:file': ADMIN_AUDITOR,
  'GET /api/admin/audit/holds': ADMIN_AUDITOR,
  'POST /api/admin/audit/holds': ADMIN,
  'POST /api/admin/audit/holds/:id/release': ADMIN,
  'POST /api/admin/audit/erasures': ADMIN,
  // The console's page and assets: public, like the chat UI (everything they call needs a role).
  'GET /': 'public',
  'GET /admin': 'public',
  'GET /admin/*': 'public',
};

/** Path parameters by name; anything else is a fresh UUID that names nothing (a 404 at worst). */
const PARAMS: Record<string, () => string> = {
  prefix: () => 'ek_0000abcd',
  alias: () => `matrix-alias-${randomUUID().slice(0, 8)}`,
};

/** Request bodies where `{}` would not do; each call gets a fresh one. */
const BODIES: Record<string, (caller: PublicUser | null) => object> = {
  // A real sign-in (a 401 for wrong credentials would look like a refusal).
  'POST /api/auth/login': (caller) => ({
    email: caller?.email ?? 'matrix-admin@example.com',
    password: PASSWORD,
  }),
};

let db: TestDatabase;
let app: INestApplication;
const users = new Map<Role, PublicUser>();

beforeAll(async () => {
  db = await createTestDatabase();
  const config = testConfig({ DATABASE_URL: db.url });
  app = await startApp(AdminAppModule.forRoot(config), config);
  for (const role of ROLES) {
    users.set(role, await createUser(app, `matrix-${role}@example.com`, role));
  }
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

/**
 * `METHOD /path` of every route the started app's router serves (not the HEAD twin Fastify adds
 * to each GET), plus `ALL {/*splat}`: the not-found handler, which answers every other path.
 */
function servedRoutes(): string[] {
  const routes = routesOf(app)
    .filter((r) => r.method !== 'HEAD')
    .map((r) => `${r.method} ${r.url}`);
  return [...new Set([...routes, 'ALL {/*splat}'])].sort();
}

/**
 * A fresh session per call (made directly, no password hashing), so a call that ends or changes
 * a session (logout) cannot affect the next one.
 */
async function sessionFor(role: Role): Promise<{ cookie: string; csrf: string }> {
  const user = users.get(role)!;
  const s = await app.get(SessionService).startSession(app.get(DataSource).manager, user, {
    ip: null,
    userAgent: null,
    requestId: null,
  });
  return { cookie: `${SESSION_COOKIE}=${s.token}`, csrf: s.csrfToken };
}

async function call(route: string, role: Role | null): Promise<number> {
  const [routeMethod, pattern] = route.split(' ') as [string, string];
  const method = routeMethod === 'ALL' ? 'GET' : routeMethod;
  const path = pattern
    .replace(/:(\w+)/g, (_, name: string) => (PARAMS[name] ?? randomUUID)())
    .replace(/\{\/\*\w+\}/, '/matrix/no-such-route');
  const req = request(app.getHttpServer())[method.toLowerCase() as 'get'](path);
  if (role) {
    const s = await sessionFor(role);
    req.set('Cookie', s.cookie).set(CSRF_HEADER, s.csrf);
  }
  if (method !== 'GET' && method !== 'HEAD') {
    req.send(BODIES[route]?.(role ? users.get(role)! : null) ?? {});
  }
  return (await req).status;
}

/** What the caller must get: 401 without a session, 403 for a role not allowed, else past the guard. */
function expected(access: Access, role: Role | null): 'allowed' | 401 | 403 {
  if (access === 'public') return 'allowed';
  if (role === null) return 401;
  if (access === 'signed-in' || access.includes(role)) return 'allowed';
  return 403;
}

describe('authorization matrix of the admin app', () => {
  it('has a rule for every route the app serves', () => {
    const missing = servedRoutes().filter((r) => !(r in RULES));
    expect(missing).toEqual([]); // add a line to RULES for each route listed here
  });

  it('has no rule for a route the app does not serve', () => {
    const served = new Set(servedRoutes());
    const stale = Object.keys(RULES).filter((r) => !served.has(r));
    expect(stale).toEqual([]); // remove (or fix) the RULES lines listed here
  });

  it('answers every route × caller as the rules say', async () => {
    const wrong: string[] = [];
    let calls = 0;
    for (const route of servedRoutes().filter((r) => r in RULES)) {
      for (const role of [null, ...ROLES]) {
        const want = expected(RULES[route]!, role);
        const status = await call(route, role);
        calls++;
        const ok = want === 'allowed' ? status !== 401 && status !== 403 : status === want;
        if (!ok) wrong.push(`${route} as ${role ?? 'no session'}: got ${status}, want ${want}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(calls).toBe(Object.keys(RULES).length * 4);
  });
});
