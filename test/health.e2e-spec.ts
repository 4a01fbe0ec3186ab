import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { MIGRATIONS } from '@enclave/db';
import { ChatAppModule } from '../apps/chat/src/chat.module.js';
import { HTTP_APPS, startApp } from './support/app.js';
import { testConfig } from './support/config.js';
import { createTestDatabase, type TestDatabase, viaPort } from './support/postgres.js';
import { TcpProxy } from './support/tcp-proxy.js';

async function waitForStatus(app: INestApplication, status: number): Promise<request.Response> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await request(app.getHttpServer()).get('/readyz');
    if (res.status === status || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

// What each app's /readyz asks besides the database.
const OWN_CHECKS: Record<string, string[]> = { audit: ['audit-sealer'] };

describe.each(HTTP_APPS)('%s app health', (name, moduleFor) => {
  let app: INestApplication;
  beforeAll(async () => {
    const config = testConfig({ DATABASE_URL: db.url });
    app = await startApp(moduleFor(config), config);
  });
  afterAll(async () => {
    await app.close();
  });

  it('is alive and ready once migrations are applied at start-up', async () => {
    await request(app.getHttpServer()).get('/healthz').expect(200, { status: 'ok' });
    await request(app.getHttpServer())
      .get('/readyz')
      .expect(200, { status: 'ready', checks: ['database', ...(OWN_CHECKS[name] ?? [])] });
  });

  it('sends helmet security headers', async () => {
    const res = await request(app.getHttpServer()).get('/healthz');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('keeps a sane incoming x-request-id and replaces an unsafe one', async () => {
    const kept = await request(app.getHttpServer()).get('/healthz').set('x-request-id', 'abc-123');
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await request(app.getHttpServer())
      .get('/healthz')
      .set('x-request-id', 'bad id\twith spaces');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const fresh = await request(app.getHttpServer()).get('/healthz');
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(fresh.headers['x-request-id']).not.toBe(replaced.headers['x-request-id']);
  });
});

describe('readiness follows the database', () => {
  it('goes 503 naming the database when it is unreachable, and back to 200 when it returns', async () => {
    const proxy = TcpProxy.forUrl(db.url);
    await proxy.start();
    const config = testConfig({ DATABASE_URL: viaPort(db.url, proxy.port) });
    const app = await startApp(ChatAppModule.forRoot(config), config);
    try {
      await request(app.getHttpServer()).get('/readyz').expect(200);
      await proxy.cut();
      const down = await waitForStatus(app, 503);
      expect(down.status).toBe(503);
      expect(down.body.status).toBe('unavailable');
      // A code at most, never the driver's message (host names, users, SQL).
      expect(down.body.reasons.database).toMatch(
        /^(unreachable( \([A-Z0-9_]+\))?|no answer within \d+ ms)$/,
      );
      // Through nginx (a client address that is not this host): which part, not why.
      const remote = await request(app.getHttpServer())
        .get('/readyz')
        .set('x-forwarded-for', '203.0.113.5');
      expect(remote.body).toEqual({ status: 'unavailable', reasons: { database: 'unavailable' } });
      await request(app.getHttpServer()).get('/healthz').expect(200);
      await proxy.restore();
      const up = await waitForStatus(app, 200);
      expect(up.status).toBe(200);
    } finally {
      await app.close();
      await proxy.stop();
    }
  });

  it('is 503 naming the missing migration when migrations are off and not applied', async () => {
    const fresh = await createTestDatabase();
    const config = testConfig({ DATABASE_URL: fresh.url, ENCLAVE_MIGRATE_ON_START: 'false' });
    const app = await startApp(ChatAppModule.forRoot(config), config);
    try {
      const res = await request(app.getHttpServer()).get('/readyz').expect(503);
      const all = MIGRATIONS.map((M) => new M().name);
      expect(res.body.reasons.database).toBe(`migrations not applied: ${all.join(', ')}`);
      const remote = await request(app.getHttpServer())
        .get('/readyz')
        .set('x-forwarded-for', '198.51.100.9')
        .expect(503);
      expect(remote.body).toEqual({ status: 'unavailable', reasons: { database: 'unavailable' } });
    } finally {
      await app.close();
      await fresh.drop();
    }
  });
});
