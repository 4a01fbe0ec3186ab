import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ChatHarness } from '../support/chat-harness.js';
import { launchChromium, passwordUser, signInConsole, startAdminApp } from '../support/browser.js';
import { selfSignedCert, TestNginx } from '../support/nginx.js';
import { freePort } from '../support/ports.js';

// The admin console through the shipped nginx site, as an operator on an admin network reaches
// it: the page and its assets from the admin app under /admin, sign-in on the chat instances
// (the session is shared through the database), and the admin API under /api/admin on the
// admin app, writes included.

describe('admin console behind nginx', () => {
  let h: ChatHarness;
  let admin: { app: INestApplication; url: string };
  let nginx: TestNginx;
  let dir: string;
  let origin: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'enclave-nginx-console-'));
    h = await ChatHarness.start();
    admin = await startAdminApp(h);
    await passwordUser(h, 'root@example.com', 'admin');
    const tls = await selfSignedCert(dir);
    const httpsPort = await freePort();
    nginx = new TestNginx(dir);
    await nginx.render([
      '--chat', new URL(h.baseURL).port,
      '--admin', new URL(admin.url).port,
      '--admin-networks', '127.0.0.1/32',
      '--cert', tls.cert, '--key', tls.key,
      '--https-port', String(httpsPort), '--http-port', String(await freePort()),
      '--listen-address', '127.0.0.1',
    ]); // prettier-ignore
    await nginx.start(httpsPort);
    origin = `https://127.0.0.1:${httpsPort}`;
    browser = await launchChromium();
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    page = await context.newPage();
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await nginx?.stop();
    await admin?.app.close();
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the console with its CSP, and its hashed assets for good', async () => {
    const res = await page.goto(`${origin}/admin/`);
    expect(res!.status()).toBe(200);
    const headers = res!.headers();
    expect(headers['cache-control']).toBe('no-cache');
    expect(headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
    const script = await page.locator('script[src^="/admin/assets/"]').getAttribute('src');
    const asset = await page.request.get(`${origin}${script}`);
    expect(asset.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('signs in and creates a user through nginx', async () => {
    await signInConsole(page, origin, 'root@example.com');
    await page
      .getByRole('navigation', { name: 'Console' })
      .getByRole('link', { name: 'Users & keys' })
      .click();
    const form = page.getByRole('form', { name: 'Add a user' });
    await form.getByLabel('Email').fill('through.nginx@example.com');
    await form.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('dialog', { name: 'Password for through.nginx@example.com' }).waitFor();
    const [row] = await h.dataSource.query(
      `SELECT role FROM users WHERE email = 'through.nginx@example.com'`,
    );
    expect(row).toEqual({ role: 'user' });
  });
});
