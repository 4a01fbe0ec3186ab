import type { INestApplication } from '@nestjs/common';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { UsersService } from '@enclave/auth';
import { ChatHarness } from '../support/chat-harness.js';
import { launchChromium, passwordUser, signInConsole, startAdminApp } from '../support/browser.js';
import { TEST_ACTOR } from '../support/auth.js';

// Passwords in both web UIs, in real headless Chromium: a one-time password leads to the
// change-password form before anything else, and anyone can change their own password.

const CHOSEN = 'lantern orchard pebble 2031';

describe('passwords in the web UIs', () => {
  let h: ChatHarness;
  let admin: { app: INestApplication; url: string };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    h = await ChatHarness.start();
    admin = await startAdminApp(h);
    browser = await launchChromium();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
  });
  afterEach(async () => {
    await context?.close();
  });
  afterAll(async () => {
    await browser?.close();
    await admin?.app.close();
    await h?.stop();
  });

  async function fillChange(current: string, next: string, repeat = next): Promise<void> {
    await page.getByLabel(/^(One-time|Current) password$/).fill(current);
    await page.getByLabel('New password', { exact: true }).fill(next);
    await page.getByLabel('Repeat the new password').fill(repeat);
    await page.getByRole('button', { name: 'Save the new password' }).click();
  }

  it('chat: a one-time password must be replaced first; a weak one is refused', async () => {
    const { generatedPassword } = await h.app
      .get(UsersService)
      .create({ email: 'newcomer@example.com', role: 'user' }, TEST_ACTOR, null);
    await page.goto(h.baseURL);
    await page.getByLabel('Email').fill('newcomer@example.com');
    await page.getByLabel('Password').fill(generatedPassword!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Choose your own password' }).waitFor();
    expect(await page.getByLabel('Message', { exact: true }).count()).toBe(0);

    await fillChange(generatedPassword!, 'password1234');
    await page
      .getByRole('alert')
      .filter({ hasText: /too easy to guess/ })
      .waitFor();
    await fillChange(generatedPassword!, CHOSEN);
    await page.getByLabel('Message', { exact: true }).waitFor();

    // A reload keeps the chat (the requirement is gone on the server too).
    await page.reload();
    await page.getByLabel('Message', { exact: true }).waitFor();
    const [row] = await h.dataSource.query(
      `SELECT password_change_required AS "required" FROM users WHERE email = 'newcomer@example.com'`,
    );
    expect(row.required).toBe(false);
  });

  it('chat: a signed-in user changes their password from their profile', async () => {
    await passwordUser(h, 'changer@example.com');
    await page.goto(h.baseURL);
    await page.getByLabel('Email').fill('changer@example.com');
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'changer@example.com' }).click();
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('heading', { name: 'Change your password' }).waitFor();
    await fillChange('correct horse battery staple', CHOSEN, `${CHOSEN}!`);
    await page.getByRole('alert').filter({ hasText: 'The two new passwords differ.' }).waitFor();
    await fillChange('correct horse battery staple', CHOSEN);
    await page.getByRole('heading', { name: 'Your profile' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Email').fill('changer@example.com');
    await page.getByLabel('Password').fill(CHOSEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Message', { exact: true }).waitFor();
  });

  it('console: the first administrator changes the one-time password, then sees the console', async () => {
    const { generatedPassword } = await h.app
      .get(UsersService)
      .create({ email: 'ops@example.com', role: 'admin' }, TEST_ACTOR, null);
    await page.goto(`${admin.url}/admin/`);
    await page.getByLabel('Email').fill('ops@example.com');
    await page.getByLabel('Password').fill(generatedPassword!);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Choose your own password' }).waitFor();
    await fillChange(generatedPassword!, CHOSEN);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByRole('button', { name: 'Change password' }).waitFor();
  });

  it('console: an administrator changes their password from the header', async () => {
    await passwordUser(h, 'root@example.com', 'admin');
    await signInConsole(page, admin.url, 'root@example.com');
    await page.getByRole('button', { name: 'Change password' }).click();
    await fillChange('correct horse battery staple', CHOSEN);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    const res = await page.request.post(`${admin.url}/api/auth/login`, {
      data: { email: 'root@example.com', password: CHOSEN },
    });
    expect(res.status()).toBe(200);
  });
});
