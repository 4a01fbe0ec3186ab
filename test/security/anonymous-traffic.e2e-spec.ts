import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AdminAppModule } from '../../apps/admin/src/admin.module.js';
import { startApp } from '../support/app.js';
import { auditSince, createUser, lastAuditId, PASSWORD } from '../support/auth.js';
import { testConfig } from '../support/config.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

// Anonymous traffic must not grow the audit chain without limit, and is rate-limited in the app
// itself (not only by nginx): refusals from one address are aggregated per window, and requests
// without valid credentials past the per-minute budget get 429 rate_limited.

const PER_MINUTE = 40;

describe('anonymous traffic', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = testConfig({
      DATABASE_URL: db.url,
      AUDIT_DENIAL_WINDOW_SECONDS: '3600',
      ENCLAVE_ANONYMOUS_RATE_PER_MINUTE: String(PER_MINUTE),
    });
    app = await startApp(AdminAppModule.forRoot(config), config);
    ds = app.get(DataSource);
    await createUser(app, 'admin@example.com', 'admin');
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const from = (address: string) => ({ 'x-forwarded-for': address });

  it('records repeated refusals from one address as one event with a count, not one each', async () => {
    const since = await lastAuditId(ds);
    for (let i = 0; i < 30; i++) {
      await request(app.getHttpServer())
        .get('/api/admin/users')
        .set(from('192.0.2.10'))
        .expect(401);
    }
    // Another address gets its own first event.
    await request(app.getHttpServer()).get('/api/admin/users').set(from('192.0.2.11')).expect(401);
    const events = await auditSince(ds, since, 'auth.request.denied');
    expect(events).toHaveLength(2);

    // The window's count is written when it closes (here: when the app stops).
    const closing = await lastAuditId(ds);
    await app.close();
    const config = testConfig({ DATABASE_URL: db.url });
    app = await startApp(AdminAppModule.forRoot(config), config);
    ds = app.get(DataSource);
    const [aggregate] = await auditSince(ds, closing, 'auth.request.denied');
    expect(aggregate).toMatchObject({
      actorType: 'anonymous',
      targetType: 'client',
      payload: { aggregated: true, count: 29, codes: { missing_credentials: 29 } },
    });
  });

  it('answers 429 rate_limited with Retry-After past the budget, while signed-in callers go on', async () => {
    await app.close();
    const config = testConfig({
      DATABASE_URL: db.url,
      AUDIT_DENIAL_WINDOW_SECONDS: '3600',
      ENCLAVE_ANONYMOUS_RATE_PER_MINUTE: String(PER_MINUTE),
    });
    app = await startApp(AdminAppModule.forRoot(config), config);
    const server = app.getHttpServer();
    const statuses: number[] = [];
    for (let i = 0; i < PER_MINUTE + 10; i++) {
      statuses.push((await request(server).get('/api/admin/users').set(from('192.0.2.20'))).status);
    }
    expect(statuses.slice(0, PER_MINUTE)).toEqual(Array(PER_MINUTE).fill(401));
    expect(statuses.slice(PER_MINUTE)).toEqual(Array(10).fill(429));
    const limited = await request(server).post('/api/auth/login').set(from('192.0.2.20')).send({});
    expect(limited.status).toBe(429);
    // Probes are never throttled: a load balancer polling from this address keeps seeing it up.
    await request(server).get('/healthz').set(from('192.0.2.20')).expect(200);
    await request(server).get('/readyz').set(from('192.0.2.20')).expect(200);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    // Other addresses, and callers with valid credentials from the same one, are not limited.
    const signIn = await request(server)
      .post('/api/auth/login')
      .set(from('192.0.2.21'))
      .send({ email: 'admin@example.com', password: PASSWORD })
      .expect(200);
    const cookie = (signIn.headers['set-cookie'] as unknown as string[])
      .map((c) => c.split(';')[0])
      .join('; ');
    await request(server)
      .get('/api/admin/users')
      .set(from('192.0.2.20'))
      .set('Cookie', cookie)
      .expect(200);
  });
});
