import type { INestApplication } from '@nestjs/common';
import type { Role } from '@enclave/auth';
import request from 'supertest';
import { AdminAppModule } from '../src/admin.module.js';
import { startApp } from '../../../test/support/app.js';
import { auditSince, createKey, createUser, lastAuditId } from '../../../test/support/auth.js';
import { testConfig } from '../../../test/support/config.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';
import { DataSource } from 'typeorm';

// Who may call what in the admin API, checked over every route the app actually serves (a route
// added later without a role fails here): admins everything; auditors read, and only open
// conversations, verify the chain and export; plain users nothing.

/** What an auditor may do beyond reading the audit trail. Everything else is refused to them. */
const AUDITOR_MAY = new Set([
  'GET /api/admin/dashboard',
  'GET /api/admin/policies',
  'GET /api/admin/conversations',
  'POST /api/admin/conversations/:id/open',
  'GET /api/admin/feedback',
  'GET /api/admin/usage',
  'GET /api/admin/audit/events',
  'GET /api/admin/audit/status',
  'POST /api/admin/audit/verify',
  'GET /api/admin/audit/exports',
  'POST /api/admin/audit/exports',
  'GET /api/admin/audit/exports/:id',
  'GET /api/admin/audit/exports/:id/:file',
]);

/** Auditors read the trail, including holds once they exist; they never change them. */
const auditorMay = (route: string) =>
  AUDITOR_MAY.has(route) || /^GET \/api\/admin\/audit\//.test(route);

/** The app's routes under /api/admin as `METHOD /path` (Express 5 router). */
function adminRoutes(app: INestApplication): string[] {
  const router = (
    app.getHttpAdapter().getInstance() as {
      router: {
        stack: { route?: { path: string; methods: Record<string, boolean> } }[];
      };
    }
  ).router;
  const routes: string[] = [];
  for (const layer of router.stack) {
    if (!layer.route?.path.startsWith('/api/admin')) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all') routes.push(`${method.toUpperCase()} ${layer.route.path}`);
    }
  }
  return routes.sort();
}

function concrete(path: string): string {
  return path
    .replace(':id', '00000000-0000-4000-8000-000000000000')
    .replace(':prefix', 'ek_00000000')
    .replace(':alias', 'default')
    .replace(':file', 'data');
}

describe('admin API roles', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let ds: DataSource;
  const keys = {} as Record<Role, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = testConfig({ DATABASE_URL: db.url });
    app = await startApp(AdminAppModule.forRoot(config), config);
    ds = app.get(DataSource);
    for (const role of ['admin', 'auditor', 'user'] as Role[]) {
      const user = await createUser(app, `${role}@example.com`, role);
      keys[role] = (await createKey(app, user.id)).key;
    }
  });
  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  const call = (route: string, role: Role) => {
    const [method, path] = route.split(' ') as [string, string];
    const agent = request(app.getHttpServer());
    const req =
      method === 'GET'
        ? agent.get(concrete(path))
        : method === 'POST'
          ? agent.post(concrete(path))
          : method === 'PATCH'
            ? agent.patch(concrete(path))
            : method === 'PUT'
              ? agent.put(concrete(path))
              : agent.delete(concrete(path));
    return req.set('authorization', `Bearer ${keys[role]}`).send({});
  };

  it('serves the routes of the contract', () => {
    const routes = adminRoutes(app);
    for (const route of AUDITOR_MAY) expect(routes).toContain(route);
    expect(routes).toContain('PATCH /api/admin/policies');
  });

  it('refuses every admin route to plain users', async () => {
    for (const route of adminRoutes(app)) {
      const res = await call(route, 'user');
      expect([route, res.status, res.body.error?.code]).toEqual([route, 403, 'forbidden']);
    }
  });

  it('lets auditors read and export but change nothing', async () => {
    const since = await lastAuditId(ds);
    const before = await ds.query(
      `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM api_keys) AS keys,
              (SELECT count(*) FROM backends) AS backends, (SELECT count(*) FROM enclave_settings) AS settings`,
    );
    for (const route of adminRoutes(app)) {
      const res = await call(route, 'auditor');
      if (auditorMay(route)) {
        // Allowed through the guard: whatever it answers, it is not a refusal for the role.
        expect([route, res.body.error?.code]).not.toEqual([route, 'forbidden']);
      } else {
        expect([route, res.status, res.body.error?.code]).toEqual([route, 403, 'forbidden']);
      }
    }
    expect(
      await ds.query(
        `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM api_keys) AS keys,
                (SELECT count(*) FROM backends) AS backends, (SELECT count(*) FROM enclave_settings) AS settings`,
      ),
    ).toEqual(before);
    const changes = (await auditSince(ds, since)).filter(
      (e) => !['auth.request.denied', 'request.rejected', 'request.failed'].includes(e.action),
    );
    expect(changes).toEqual([]);
  });
});
