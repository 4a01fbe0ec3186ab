import type { INestApplication } from '@nestjs/common';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ChatHarness } from '../support/chat-harness.js';
import { openaiClient, realmFetch } from '../support/openai.js';
import {
  consoleWrite,
  launchChromium,
  passwordUser,
  signInConsole,
  startAdminApp,
  xssMarker,
} from '../support/browser.js';

// The admin console in real headless Chromium, served by the admin app at /admin, on the admin
// API as it is: users, API keys, backends, and what each role may see and do. (The pages on the
// dashboard, conversation and audit API are in console-audit.e2e-spec.ts.)

describe('admin console', () => {
  let h: ChatHarness;
  let admin: { app: INestApplication; url: string };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let newUser: { email: string; password: string; id: string };

  beforeAll(async () => {
    h = await ChatHarness.start();
    admin = await startAdminApp(h);
    await passwordUser(h, 'root@example.com', 'admin');
    await passwordUser(h, 'auditor@example.com', 'auditor');
    await passwordUser(h, 'staff@example.com', 'user');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await admin?.app.close();
    await h?.stop();
  });

  const nav = (p: Page) => p.getByRole('navigation', { name: 'Console' });

  it('asks to sign in, offers no SSO when the server has none, and refuses a wrong password', async () => {
    await page.goto(`${admin.url}/admin/`);
    await page.getByRole('heading', { name: 'Enclave console' }).waitFor();
    await page.getByLabel('Email').fill('root@example.com');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('link', { name: /^Sign in with/ }).count()).toBe(0);
    expect(await nav(page).count()).toBe(0);
  });

  it('signs an admin in with every section in the menu', async () => {
    await signInConsole(page, admin.url, 'root@example.com');
    expect(await nav(page).getByRole('link').allTextContents()).toEqual([
      'Dashboard',
      'Users & keys',
      'Backends & models',
      'Groups',
      'Model access & prices',
      'Quotas & limits',
      'Budgets',
      'Usage & cost',
      'Policies',
      'Presets & templates',
      'Conversations',
      'Feedback',
      'Audit',
    ]);
  });

  it('creates a user and shows the generated password once; it signs in', async () => {
    await nav(page).getByRole('link', { name: 'Users & keys' }).click();
    expect(new URL(page.url()).pathname).toBe('/admin/users');
    const form = page.getByRole('form', { name: 'Add a user' });
    await form.getByLabel('Email').fill('new.person@example.com');
    await form.getByLabel('Role').selectOption('user');
    await form.getByRole('button', { name: 'Create user' }).click();

    const dialog = page.getByRole('dialog', { name: 'Password for new.person@example.com' });
    const password = await dialog.getByLabel('Password').inputValue();
    expect(password.length).toBeGreaterThanOrEqual(12);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(password);
    await page.getByRole('link', { name: 'new.person@example.com', exact: true }).waitFor();

    const login = await realmFetch(`${admin.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'new.person@example.com', password }),
    });
    expect(login.status).toBe(200);
    const [{ id }] = await h.dataSource.query(
      `SELECT id FROM users WHERE email = 'new.person@example.com'`,
    );
    newUser = { email: 'new.person@example.com', password, id };
    const [event] = await h.dataSource.query(
      `SELECT actor_label FROM audit_events WHERE action = 'user.created' AND target_id = $1`,
      [id],
    );
    expect(event).toBeDefined();
  });

  it('changes a role and disables a user, each saved by the API', async () => {
    await page.getByLabel(`Role of ${newUser.email}`).selectOption('auditor');
    expect(await eventually(() => roleOf(newUser.id), 'auditor')).toBe('auditor');
    await page.getByLabel(`Role of ${newUser.email}`).selectOption('user');
    expect(await eventually(() => roleOf(newUser.id), 'user')).toBe('user');

    const row = page.getByRole('row').filter({ hasText: newUser.email });
    await row.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
    await row.getByText('Disabled').waitFor();
    await row.getByRole('button', { name: 'Enable' }).click();
    await row.getByText('Active').waitFor();
  });

  it('resets a password, showing the new one once', async () => {
    const row = page.getByRole('row').filter({ hasText: newUser.email });
    await row.getByRole('button', { name: 'Reset password' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Reset password' }).click();
    const dialog = page.getByRole('dialog', { name: `New password for ${newUser.email}` });
    const password = await dialog.getByLabel('Password').inputValue();
    expect(password).not.toBe(newUser.password);
    await dialog.getByRole('button', { name: 'Done' }).click();
    expect(await page.content()).not.toContain(password);
  });

  it('creates an API key shown once, which works on /v1 until it is revoked', async () => {
    await page.getByRole('link', { name: `API keys of ${newUser.email}` }).click();
    await page.getByRole('heading', { name: `API keys of ${newUser.email}` }).waitFor();
    const form = page.getByRole('form', { name: 'Create an API key' });
    await form.getByLabel('Key name').fill('laptop');
    await form.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    const key = await dialog.getByLabel('API key').inputValue();
    expect(key).toMatch(/^ek_/);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(key);
    const row = page.getByRole('row').filter({ hasText: 'laptop' });
    await row.getByText(key.slice(0, 11)).waitFor();

    const client = openaiClient(`${h.baseURL}/v1`, key);
    expect((await client.models.list()).data.length).toBeGreaterThan(0);

    await row.getByRole('button', { name: 'Revoke laptop' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await row.getByText('Revoked').waitFor();
    await expect(client.models.list()).rejects.toMatchObject({ status: 401 });
  });

  it('adds a backend, tests it and sees it healthy; disables it', async () => {
    const extra = await h.extraSim({ models: ['extra-model'] });
    await nav(page).getByRole('link', { name: 'Backends & models' }).click();
    const form = page.getByRole('form', { name: 'Add a backend' });
    await form.getByLabel('Name').fill('gpu-2');
    await form.getByLabel('Base URL').fill(extra.url);
    await form.getByLabel(/^Models/).fill('extra-model');
    await form.getByRole('button', { name: 'Add backend' }).click();

    const row = page.locator('tr[data-backend="gpu-2"]');
    await row.waitFor();
    await row.getByRole('button', { name: 'Test gpu-2' }).click();
    await row.getByText('Test passed').waitFor();
    await row.getByText('Healthy', { exact: true }).waitFor();
    const [created] = await h.dataSource.query(
      `SELECT payload FROM audit_events WHERE action = 'admin.backend.created'`,
    );
    expect(created.payload.after).toMatchObject({ name: 'gpu-2', models: ['extra-model'] });

    await row.getByRole('button', { name: 'Disable gpu-2' }).click();
    await row.getByText('Disabled', { exact: true }).waitFor();
    const [{ enabled }] = await h.dataSource.query(
      `SELECT enabled FROM backends WHERE name = 'gpu-2'`,
    );
    expect(enabled).toBe(false);
  });

  it('sets a model alias and a quota', async () => {
    const aliases = page.getByRole('region', { name: 'Model aliases' });
    await aliases.getByLabel('Alias').fill('default');
    await aliases.getByLabel('Model').fill('enclave-sim');
    await aliases.getByRole('button', { name: 'Set alias' }).click();
    await aliases.getByRole('cell', { name: 'default', exact: true }).waitFor();

    await nav(page).getByRole('link', { name: 'Quotas & limits' }).click();
    const form = page.getByRole('form', { name: 'Set a quota' });
    await form.getByLabel('Applies to').selectOption('default_user');
    await form.getByLabel('Requests per minute').fill('120');
    await form.getByRole('button', { name: 'Save quota' }).click();
    await page
      .getByRole('row')
      .filter({ hasText: 'Every user (default)' })
      .getByText('120')
      .waitFor();
  });

  it('lists feedback filtered by rating and model, comments shown as text', async () => {
    const [staff] = await h.dataSource.query(
      `SELECT id FROM users WHERE email = 'staff@example.com'`,
    );
    const [{ id: conversation }] = await h.dataSource.query(
      `INSERT INTO conversations (user_id, title, model) VALUES ($1, 'Rated', 'enclave-sim') RETURNING id`,
      [staff.id],
    );
    const rate = async (model: string, rating: string, comment: string) => {
      const [{ id }] = await h.dataSource.query(
        `INSERT INTO messages (conversation_id, user_id, role, content, model, outcome)
         VALUES ($1, $2, 'assistant', 'an answer', $3, 'completed') RETURNING id`,
        [conversation, staff.id, model],
      );
      await h.dataSource.query(
        `INSERT INTO feedback (message_id, user_id, rating, comment, model, backend)
         VALUES ($1, $2, $3, $4, $5, 'llm-sim')`,
        [id, staff.id, rating, comment, model],
      );
    };
    await rate('enclave-sim', 'up', 'spot on');
    await rate('enclave-sim', 'down', '<img src=x onerror="window.__xss=3"> wrong');
    await rate('sim-large', 'down', 'too long');

    await nav(page).getByRole('link', { name: 'Feedback' }).click();
    const rows = page.locator('tbody tr');
    await rows.nth(2).waitFor();
    expect(await rows.count()).toBe(3);

    const filter = page.getByRole('search');
    await filter.getByLabel('Rating').selectOption('down');
    await filter.getByLabel('Model').fill('enclave-sim');
    await filter.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('too long').waitFor({ state: 'detached' });
    await page.getByText('<img src=x onerror="window.__xss=3"> wrong', { exact: true }).waitFor();
    expect(await rows.count()).toBe(1);
    expect(await page.locator('tbody img').count()).toBe(0);
    expect(await xssMarker(page)).toBeUndefined();
  });

  it('offers no conversation to open for feedback on an answer given through the API', async () => {
    const [staff] = await h.dataSource.query(
      `SELECT id FROM users WHERE email = 'staff@example.com'`,
    );
    const [{ id }] = await h.dataSource.query(
      `INSERT INTO messages (conversation_id, user_id, role, content, model, outcome)
       VALUES (NULL, $1, 'assistant', 'an API answer', 'api-only', 'completed') RETURNING id`,
      [staff.id],
    );
    await h.dataSource.query(
      `INSERT INTO feedback (message_id, user_id, rating, comment, model, backend)
       VALUES ($1, $2, 'up', 'rated through the API', 'api-only', 'llm-sim')`,
      [id, staff.id],
    );

    await nav(page).getByRole('link', { name: 'Feedback' }).click();
    const filter = page.getByRole('search');
    await filter.getByLabel('Rating').selectOption('');
    await filter.getByLabel('Model').fill('api-only');
    await filter.getByRole('button', { name: 'Filter' }).click();
    const row = page.locator('tbody tr', { hasText: 'rated through the API' });
    await row.getByText('via the API').waitFor();
    expect(await page.locator('tbody tr').count()).toBe(1);
    expect(await row.getByRole('button', { name: 'Open conversation…' }).count()).toBe(0);
  });

  it('shows an auditor only the reading sections, and the API refuses their changes', async () => {
    const ctx = await browser.newContext();
    try {
      const p = await ctx.newPage();
      await signInConsole(p, admin.url, 'auditor@example.com');
      expect(await nav(p).getByRole('link').allTextContents()).toEqual([
        'Dashboard',
        'Groups',
        'Model access & prices',
        'Budgets',
        'Usage & cost',
        'Conversations',
        'Feedback',
        'Audit',
      ]);
      await p.goto(`${admin.url}/admin/users`);
      await p.getByRole('heading', { name: 'Page not found' }).waitFor();

      const [{ id: backendId }] = await h.dataSource.query('SELECT id FROM backends LIMIT 1');
      const refused = [
        await consoleWrite(p, admin.url, 'POST', '/api/admin/users', {
          email: 'sneaky@example.com',
          role: 'admin',
        }),
        await consoleWrite(p, admin.url, 'PATCH', `/api/admin/users/${newUser.id}`, {
          role: 'admin',
        }),
        await consoleWrite(p, admin.url, 'POST', `/api/admin/users/${newUser.id}/keys`, {
          name: 'x',
        }),
        await consoleWrite(p, admin.url, 'PATCH', `/api/admin/backends/${backendId}`, {
          enabled: false,
        }),
        await consoleWrite(p, admin.url, 'PUT', '/api/admin/quotas', {
          scope: 'default_user',
          requestsPerMinute: 1,
          tokensPerDay: null,
          tokensPerMonth: null,
        }),
        await consoleWrite(p, admin.url, 'PUT', '/api/admin/aliases/default', { model: 'x' }),
      ];
      for (const r of refused) expect(r).toEqual({ status: 403, code: 'forbidden' });
      expect(await roleOf(newUser.id)).toBe('user');
    } finally {
      await ctx.close();
    }
  });

  it('tells a plain user they have no console access', async () => {
    const ctx = await browser.newContext();
    try {
      const p = await ctx.newPage();
      await p.goto(`${admin.url}/admin/`);
      await p.getByLabel('Email').fill('staff@example.com');
      await p.getByLabel('Password').fill('correct horse battery staple');
      await p.getByRole('button', { name: 'Sign in', exact: true }).click();
      await p.getByRole('heading', { name: 'No console access' }).waitFor();
      expect(await nav(p).count()).toBe(0);
      expect(
        await consoleWrite(p, admin.url, 'PUT', '/api/admin/aliases/default', { model: 'x' }),
      ).toEqual({ status: 403, code: 'forbidden' });
    } finally {
      await ctx.close();
    }
  });

  /** The value once it equals `want`, or the last one seen after a few seconds. */
  async function eventually<T>(read: () => Promise<T>, want: T): Promise<T> {
    let value = await read();
    for (let i = 0; i < 100 && value !== want; i++) {
      await new Promise((r) => setTimeout(r, 50));
      value = await read();
    }
    return value;
  }

  async function roleOf(id: string): Promise<string> {
    const [{ role }] = await h.dataSource.query('SELECT role FROM users WHERE id = $1', [id]);
    return role;
  }
});
