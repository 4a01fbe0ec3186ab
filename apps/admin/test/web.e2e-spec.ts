import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AdminAppModule } from '../src/admin.module.js';
import { startApp } from '../../../test/support/app.js';
import { testConfig } from '../../../test/support/config.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';

// The admin console as the admin app serves it at /admin (built by `npm run build:web`, which
// `npm test` runs first): public page with no inline script, hashed assets cached for good,
// index.html never cached, the page for every console path, and the API left alone.

let db: TestDatabase;
let app: INestApplication;
const http = () => request(app.getHttpServer());
const PAGE = 'text/html,application/xhtml+xml,*/*;q=0.8';

beforeAll(async () => {
  db = await createTestDatabase();
  const config = testConfig({ DATABASE_URL: db.url });
  app = await startApp(AdminAppModule.forRoot(config), config);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('the admin console', () => {
  it('serves the page at /admin/ without a sign-in, never cached, under a CSP with no inline script', async () => {
    const res = await http().get('/admin/').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    const csp = res.headers['content-security-policy'] as string;
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? /default-src ([^;]*)/.exec(csp)![1]!;
    expect(scriptSrc).toContain("'self'");
    expect(scriptSrc).not.toContain('unsafe-inline');
    expect(scriptSrc).not.toContain('unsafe-eval');
    expect(res.text).toContain('<div id="root"></div>');
    const scripts = [...res.text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [tag, body] of scripts) {
      expect(tag).toMatch(/\ssrc="\/admin\/assets\/[^"]+\.js"/);
      expect(body!.trim()).toBe('');
    }
  });

  it('sends /admin to /admin/, where the page and its assets live', async () => {
    const res = await http().get('/admin').expect(301);
    expect(res.headers.location).toBe('/admin/');
  });

  it('serves hashed assets for good, with their type, and 404s a missing one', async () => {
    const page = await http().get('/admin/').expect(200);
    for (const [, path] of page.text.matchAll(/(?:src|href)="(\/admin\/assets\/[^"]+)"/g)) {
      const res = await http().get(path!).expect(200);
      expect(res.headers['content-type']).toMatch(/javascript|css/);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    }
    const missing = await http().get('/admin/assets/index-nothere.js').expect(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  it('answers a browser opening a console path with the page, so links and reloads work', async () => {
    for (const path of [
      '/admin/users',
      '/admin/users/7d0c4d7e-2f6a-4a8e-9c57-3f1f5a1b2c3d',
      '/admin/audit',
    ]) {
      const res = await http().get(path).set('accept', PAGE).expect(200);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.text).toContain('<div id="root"></div>');
    }
    // Not a page load, or a file that is not there: 404 as everywhere else.
    await http().get('/admin/users').set('accept', '*/*').expect(404);
    await http().get('/admin/wp-login.php').set('accept', PAGE).expect(404);
  });

  it('never serves a file outside the build', async () => {
    for (const path of [
      '/admin/../package.json',
      '/admin/%2e%2e/package.json',
      '/admin/..%2fpackage.json',
    ]) {
      const res = await http().get(path).set('accept', PAGE);
      expect(res.text).not.toContain('"name": "enclave"');
    }
  });

  it('leaves the API, the probes and other paths alone', async () => {
    const users = await http().get('/api/admin/users').expect(401);
    expect(users.body.error.code).toBe('missing_credentials');
    const unknown = await http().get('/api/admin/no-such-route').expect(404);
    expect(unknown.body.error.code).toBe('not_found');
    await http().get('/healthz').expect(200);
    // The chat UI lives in the chat app; the admin app's / leads to the console.
    const root = await http().get('/').set('accept', PAGE).expect(302);
    expect(root.headers.location).toBe('/admin/');
  });
});
