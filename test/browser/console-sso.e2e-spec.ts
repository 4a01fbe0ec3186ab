import type { INestApplication } from '@nestjs/common';
import type { Browser, Page } from 'playwright-core';
import { ChatHarness } from '../support/chat-harness.js';
import { launchChromium, startAdminApp } from '../support/browser.js';
import {
  OIDC_CLIENT_ID,
  OIDC_CLIENT_SECRET,
  startOidcProvider,
  type TestOidcProvider,
} from '../support/oidc-provider.js';
import { freePort } from '../support/ports.js';

// Single sign-on into the admin console in real headless Chromium: the console's "Sign in with
// …" button, the provider's own pages (oidc-provider on `localhost`, another site), and back to
// /admin/ with the role the provider's groups map to. Here the admin app is the public URL, as
// it is behind nginx for the admin networks.

describe('single sign-on in the admin console', () => {
  let h: ChatHarness;
  let admin: { app: INestApplication; url: string };
  let idp: TestOidcProvider;
  let browser: Browser;

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startOidcProvider([`${publicUrl}/api/auth/oidc/callback`], 'localhost');
    h = await ChatHarness.start(
      {},
      {
        ENCLAVE_PUBLIC_URL: publicUrl,
        ENCLAVE_OIDC_ISSUER: idp.issuer,
        ENCLAVE_OIDC_CLIENT_ID: OIDC_CLIENT_ID,
        ENCLAVE_OIDC_CLIENT_SECRET: OIDC_CLIENT_SECRET,
        ENCLAVE_OIDC_ROLE_MAP: 'enclave-admins:admin,compliance:auditor,staff:user',
        ENCLAVE_OIDC_LABEL: 'Corp SSO',
      },
    );
    admin = await startAdminApp(h, port);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await admin?.app.close();
    await h?.stop();
    await idp?.close();
  });

  /** From the console's sign-in page through the provider's login and consent pages. */
  async function signInWithSso(page: Page, subject: string): Promise<void> {
    await page.goto(`${admin.url}/admin/`);
    await page.getByLabel('Password').waitFor();
    await page.getByRole('link', { name: 'Sign in with Corp SSO' }).click();
    await page.locator('input[name="login"]').fill(subject);
    await page.locator('input[name="password"]').fill('anything');
    await page.getByRole('button', { name: /sign-in/i }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  it('lands an auditor from the provider in the console with the mapped role', async () => {
    idp.accounts.set('kim-sub', { email: 'kim@corp.example', groups: ['compliance'] });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await signInWithSso(page, 'kim-sub');
      const nav = page.getByRole('navigation', { name: 'Console' });
      await nav.waitFor();
      expect(new URL(page.url()).pathname).toBe('/admin/');
      expect(await nav.getByRole('link').allTextContents()).toEqual([
        'Dashboard',
        'Groups',
        'Model access & prices',
        'Budgets',
        'Usage & cost',
        'Conversations',
        'Feedback',
        'Audit',
      ]);
      await page.getByText('kim@corp.example').waitFor();
      const [{ role }] = await h.dataSource.query(
        `SELECT role FROM users WHERE email = 'kim@corp.example'`,
      );
      expect(role).toBe('auditor');
    } finally {
      await context.close();
    }
  });

  it('tells someone whose groups map to plain user that the console is not for them', async () => {
    idp.accounts.set('lou-sub', { email: 'lou@corp.example', groups: ['staff'] });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await signInWithSso(page, 'lou-sub');
      await page.getByRole('heading', { name: 'No console access' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
