import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ChatAppModule } from '../src/chat.module.js';
import { startApp } from '../../../test/support/app.js';
import { testConfig } from '../../../test/support/config.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';

// The chat web UI as the chat app serves it (built by `npm run build:web`, which `npm test` runs
// first): public page, cacheable hashed assets, the page for every app path, and never in the
// way of the APIs and probes.

let db: TestDatabase;
let app: INestApplication;
const http = () => request(app.getHttpServer());

beforeAll(async () => {
  db = await createTestDatabase();
  const config = testConfig({ DATABASE_URL: db.url });
  app = await startApp(ChatAppModule.forRoot(config), config);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('the chat web UI', () => {
  it('serves the page without a sign-in, with no inline script for the CSP to refuse', async () => {
    const res = await http().get('/').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.text).toContain('<div id="root"></div>');
    const scripts = [...res.text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [tag, body] of scripts) {
      expect(tag).toMatch(/\ssrc="\/assets\/[^"]+\.js"/);
      expect(body!.trim()).toBe('');
    }
  });

  it('serves hashed assets for good, with their type, and 404s a missing one', async () => {
    const page = await http().get('/').expect(200);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.text)![1]!;
    const res = await http().get(script).expect(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');

    const missing = await http().get('/assets/index-nothere.js').expect(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  it('answers a browser opening an app path with the page, so a conversation link works', async () => {
    const res = await http()
      .get('/c/7d0c4d7e-2f6a-4a8e-9c57-3f1f5a1b2c3d')
      .set('accept', 'text/html,application/xhtml+xml,*/*;q=0.8')
      .expect(200);
    expect(res.text).toContain('<div id="root"></div>');
  });

  it('answers 404 to anything else that does not exist', async () => {
    const notPage = await http().get('/no/such/route').set('accept', '*/*').expect(404);
    expect(notPage.body.error.code).toBe('not_found');
    const file = await http().get('/wp-login.php').set('accept', 'text/html').expect(404);
    expect(file.body.error.code).toBe('not_found');
  });

  it('never serves a file outside the build', async () => {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json']) {
      const res = await http().get(path).set('accept', 'text/html');
      expect(res.text).not.toContain('"name": "enclave"');
    }
  });

  it('leaves the APIs and probes alone', async () => {
    const unknownApi = await http().get('/api/no-such-route').expect(404);
    expect(unknownApi.body.error.code).toBe('not_found');
    const unknownV1 = await http().get('/v1/nothing').expect(404);
    expect(unknownV1.headers['content-type']).toMatch(/json/);

    const models = await http().get('/v1/models').expect(401);
    expect(models.body.error.code).toBe('missing_credentials');
    const conversations = await http().get('/api/conversations').expect(401);
    expect(conversations.body.error.code).toBe('missing_credentials');

    await http().get('/healthz').expect(200);
    const metrics = await http().get('/metrics').expect(200);
    expect(metrics.text).toContain('enclave_http_request_duration_seconds');
  });
});
