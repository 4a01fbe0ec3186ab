import { PassThrough } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ChatAppModule } from '../apps/chat/src/chat.module.js';
import { startApp } from './support/app.js';
import { testConfig } from './support/config.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';

// Shaped like real credentials: an API key (prefix + secret), a session token, a CSRF token.
const KEY = 'ek_0123abcd_S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3c';
const OTHER_KEY = 'ek_9876fedc_AnotherSecretAnotherSecretAnotherSecret1';
const SESSION = 'session-token-that-must-not-be-logged-0123456789';
const CSRF = 'csrf-token-that-must-not-be-logged-0123456789';

describe('request logs', () => {
  let db: TestDatabase;
  let app: INestApplication;
  const out = new PassThrough();
  let logged = '';
  out.on('data', (d: Buffer) => (logged += d.toString()));
  const lines = () =>
    logged
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = testConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'info' });
    app = await startApp(ChatAppModule.forRoot(config), config, { name: 'chat', log: out });
  });
  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('never carry a credential, in any of the forms a client may send one', async () => {
    await request(app.getHttpServer())
      .post(`/v1/chat/completions?api_key=${KEY}&stream=false`)
      .set('x-api-key', KEY)
      .set('authorization', `Bearer ${OTHER_KEY}`)
      .set('x-csrf-token', CSRF)
      .set('cookie', `enclave_session=${SESSION}; enclave_csrf=${CSRF}`)
      .send({ model: 'enclave-sim', messages: [{ role: 'user', content: `my key is ${KEY}` }] })
      .expect(401);
    await request(app.getHttpServer())
      .get(`/v1/models?api_key=${KEY}`)
      .set('cookie', `enclave_session=${SESSION}`)
      .set('x-csrf-token', CSRF)
      .expect(401);
    expect(logged).toContain('/v1/models');
    for (const secret of [KEY, OTHER_KEY, SESSION, CSRF, 'S3cr3t', 'AnotherSecret']) {
      expect(logged).not.toContain(secret);
    }
  });

  it('write one compact line per request: method, URL, status, time, request id', async () => {
    logged = '';
    const res = await request(app.getHttpServer())
      .get('/v1/models')
      .set('x-request-id', 'trace-me-42')
      .expect(401);
    expect(res.headers['x-request-id']).toBe('trace-me-42');
    const mine = lines().filter((l) => l.reqId === 'trace-me-42');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      app: 'chat',
      msg: 'request',
      method: 'GET',
      url: '/v1/models',
      status: 401,
    });
    expect(typeof mine[0]!.ms).toBe('number');
    expect(JSON.stringify(mine[0]).length).toBeLessThan(300);
  });

  it('leave out probes', async () => {
    logged = '';
    await request(app.getHttpServer()).get('/healthz').expect(200);
    await request(app.getHttpServer()).get('/readyz').expect(200);
    expect(lines().filter((l) => l.msg === 'request')).toEqual([]);
  });
});
