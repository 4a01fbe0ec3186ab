import type { Browser, Page } from 'playwright-core';
import { ChatHarness } from '../support/chat-harness.js';
import { launchChromium } from '../support/browser.js';
import {
  OIDC_CLIENT_ID,
  OIDC_CLIENT_SECRET,
  startOidcProvider,
  type TestOidcProvider,
} from '../support/oidc-provider.js';
import { freePort } from '../support/ports.js';

// Single sign-on in real headless Chromium: the chat UI's "Sign in with …" button, the provider's
// own login and consent pages (oidc-provider, on `localhost`: another site than the chat app on
// 127.0.0.1, so the cookies' SameSite rules apply as in production), and back to the chat.

describe('single sign-on in the chat web UI', () => {
  let h: ChatHarness;
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
        ENCLAVE_OIDC_ROLE_MAP: 'enclave-admins:admin,staff:user',
        ENCLAVE_OIDC_LABEL: 'Corp SSO',
      },
      port,
    );
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
    await idp?.close();
  });

  /** From the chat's sign-in page through the provider's login and consent pages. */
  async function signInWithSso(page: Page, subject: string): Promise<void> {
    await page.goto(h.baseURL);
    await page.getByRole('link', { name: 'Sign in with Corp SSO' }).click();
    await page.locator('input[name="login"]').fill(subject);
    await page.locator('input[name="password"]').fill('anything');
    await page.getByRole('button', { name: /sign-in/i }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  it('signs a staff member in to the chat through the provider', async () => {
    idp.accounts.set('ivy-sub', { email: 'ivy@corp.example', groups: ['staff'] });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(h.baseURL);
    // Both ways are offered while local login is on.
    await page.getByLabel('Password').waitFor();
    await signInWithSso(page, 'ivy-sub');
    await page.getByLabel('Message', { exact: true }).waitFor();
    expect(new URL(page.url()).origin).toBe(h.baseURL);
    const me = await page.evaluate(
      async () => (await fetch('/api/auth/me')).json() as Promise<{ user: unknown }>,
    );
    expect(me.user).toMatchObject({ email: 'ivy@corp.example', role: 'user' });
    await context.close();
  });

  it('shows someone with no Enclave role a page saying so, and leaves them signed out', async () => {
    idp.accounts.set('jon-sub', { email: 'jon@corp.example', groups: ['visitors'] });
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInWithSso(page, 'jon-sub');
    await page.getByRole('heading', { name: 'No access to Enclave' }).waitFor();
    await expect(page.getByText('has no Enclave role').isVisible()).resolves.toBe(true);
    await page.getByRole('link', { name: 'Back to sign-in' }).click();
    await page.getByRole('link', { name: 'Sign in with Corp SSO' }).waitFor();
    const cookies = await context.cookies(h.baseURL);
    expect(cookies.map((c) => c.name)).not.toContain('enclave_session');
    await context.close();
  });
});
