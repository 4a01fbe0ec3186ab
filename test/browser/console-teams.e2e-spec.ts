import type { INestApplication } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { Entitlements, UsageBuffer } from '@enclave/policy';
import { ChatHarness } from '../support/chat-harness.js';
import { openaiClient } from '../support/openai.js';
import {
  answerSettled,
  consoleWrite,
  launchChromium,
  passwordUser,
  signIn,
  signInConsole,
  startAdminApp,
} from '../support/browser.js';

// Teams in real headless Chromium: an admin creates a group, restricts a model to it, sets a
// price and a budget and reads the usage page; a user sees only the models their groups allow
// and their own usage in the chat UI; an auditor reads the reports and can change nothing.
// With ENCLAVE_SCREENSHOTS=1 the pages are saved to docs/screenshots/.

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

async function shot(page: Page, name: string): Promise<void> {
  if (process.env.ENCLAVE_SCREENSHOTS !== '1') return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}${name}`, fullPage: true });
}

describe('teams in the console and the chat UI', () => {
  let h: ChatHarness;
  let admin: { app: INestApplication; url: string };
  let browser: Browser;
  let lawyer: { userId: string; email: string };

  const nav = (p: Page) => p.getByRole('navigation', { name: 'Console' });

  /** The chat instance picks admin changes up at once (the notice would within 1 s). */
  const reload = () => h.app.get(Entitlements).reload();

  beforeAll(async () => {
    h = await ChatHarness.start();
    admin = await startAdminApp(h);
    await passwordUser(h, 'root@example.com', 'admin');
    await passwordUser(h, 'auditor@example.com', 'auditor');
    lawyer = await passwordUser(h, 'lawyer@example.com', 'user');
    await passwordUser(h, 'intern@example.com', 'user');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await admin?.app.close();
    await h?.stop();
  });

  it('lets an admin create a group, restrict a model to it, price it, budget it and read its usage', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await ctx.newPage();
      await signInConsole(page, admin.url, 'root@example.com');

      await nav(page).getByRole('link', { name: 'Groups' }).click();
      const create = page.getByRole('form', { name: 'Create a group' });
      await create.getByLabel('Name').fill('Legal');
      await create.getByLabel('Description').fill('The legal department');
      await create.getByRole('button', { name: 'Create group' }).click();
      await page.getByRole('link', { name: 'Legal' }).click();
      await page.getByRole('heading', { name: 'Group Legal' }).waitFor();
      const add = page.getByRole('form', { name: 'Add a member' });
      await add.getByLabel('User').selectOption({ label: 'lawyer@example.com' });
      await add.getByRole('button', { name: 'Add member' }).click();
      await page.getByRole('cell', { name: 'lawyer@example.com', exact: true }).waitFor();
      await shot(page, 'console-group.png');

      await nav(page).getByRole('link', { name: 'Model access & prices' }).click();
      await page.getByRole('button', { name: 'Edit sim-large' }).click();
      const form = page.getByRole('form', { name: 'Access and price of sim-large' });
      await form.getByLabel('Legal').check();
      await form.getByLabel(/^Input price/).fill('1000');
      await form.getByLabel(/^Output price/).fill('2000');
      await form.getByRole('button', { name: 'Save' }).click();
      const row = page.getByRole('row', { name: /sim-large/ });
      await row.getByRole('cell', { name: 'Legal' }).waitFor();
      await row.getByRole('cell', { name: '1000 EUR' }).waitFor();
      await shot(page, 'console-model-access.png');

      await nav(page).getByRole('link', { name: 'Budgets' }).click();
      const budget = page.getByRole('form', { name: 'Set a budget' });
      await budget.getByLabel(/^Group/).selectOption({ label: 'Legal' });
      await budget.getByLabel(/^In/).selectOption('money');
      await budget.getByLabel(/^Per/).selectOption('month');
      await budget.getByLabel(/^Limit/).fill('50');
      await budget.getByRole('button', { name: 'Save budget' }).click();
      await page.getByRole('cell', { name: 'group: Legal' }).waitFor();
      await page.getByRole('cell', { name: '50 EUR' }).waitFor();
      // One API key's budget: its owner first, then the key.
      const holder = await h.user('key-holder@example.com');
      await page.reload();
      await budget.getByLabel(/^For/).selectOption('api_key');
      await budget.getByLabel(/^Key of/).selectOption({ label: 'key-holder@example.com' });
      await budget.getByLabel(/^API key/).selectOption({ label: `test (${holder.prefix})` });
      await budget.getByLabel(/^Limit/).fill('5000');
      await budget.getByRole('button', { name: 'Save budget' }).click();
      await page.getByRole('cell', { name: `API key: ${holder.prefix}` }).waitFor();

      const [{ price, budgets, access }] = await h.dataSource.query(
        `SELECT (SELECT count(*)::int FROM model_prices WHERE model = 'sim-large') AS price,
                (SELECT count(*)::int FROM budgets) AS budgets,
                (SELECT count(*)::int FROM model_access WHERE model = 'sim-large') AS access`,
      );
      expect({ price, budgets, access }).toEqual({ price: 1, budgets: 2, access: 1 });

      // Usage to report: the lawyer asks the large model twice through the API.
      await reload();
      const key = await h.user('lawyer-key@example.com');
      await h.dataSource.query(
        `INSERT INTO group_members (group_id, user_id, via)
         SELECT id, $1, 'manual' FROM groups WHERE name = 'Legal'`,
        [key.userId],
      );
      await reload();
      const client = openaiClient(`${h.baseURL}/v1`, key.key);
      for (const content of ['Draft a contract.', 'Review it.']) {
        await client.chat.completions.create({
          model: 'sim-large',
          messages: [{ role: 'user', content }],
        });
      }
      await h.app.get(UsageBuffer).flush();

      await nav(page).getByRole('link', { name: 'Usage & cost' }).click();
      const legalRow = page.getByRole('row', { name: /^Legal / });
      await legalRow.waitFor();
      expect(await legalRow.getByRole('cell').nth(1).textContent()).toBe('2');
      await page.locator('figure.chart').first().waitFor();
      const csvHref = await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href');
      expect(csvHref).toContain('format=csv');
      const csv = await page.request.get(`${admin.url}${csvHref}`);
      expect(csv.status()).toBe(200);
      expect(await csv.text()).toMatch(/^group,label,requests,/);
      await shot(page, 'console-usage.png');
    } finally {
      await ctx.close();
    }
  });

  it('shows a user only the models their groups allow, and their own usage', async () => {
    await reload();
    for (const [email, models] of [
      ['intern@example.com', ['enclave-sim']],
      [lawyer.email, ['enclave-sim', 'sim-large']],
    ] as const) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      try {
        const page = await ctx.newPage();
        await signIn(page, h.baseURL, email);
        const picker = page.getByLabel('Model', { exact: true });
        // The picker is disabled until the models are in. (A locator, not waitForFunction with
        // a string: the page's CSP forbids the eval Playwright would use to poll it.)
        await page.locator('#model:enabled').waitFor();
        const options = await picker.locator('option').allTextContents();
        expect(options.sort()).toEqual([...models]);
        if (email === lawyer.email) {
          // The large model answers them; their profile then shows that request as theirs.
          await picker.selectOption('sim-large');
          await page.getByLabel('Message', { exact: true }).fill('Summarise the contract.');
          await page.getByRole('button', { name: 'Send' }).click();
          await answerSettled(page);
          await h.app.get(UsageBuffer).flush();
          await page.getByRole('link', { name: email }).click();
          const usage = page.getByRole('region', { name: 'My usage' });
          await usage.getByText(/: 1 requests,/).waitFor();
          await usage.getByRole('cell', { name: 'sim-large' }).waitFor();
          await shot(page, 'chat-my-usage.png');
        }
      } finally {
        await ctx.close();
      }
    }
  });

  it('lets an auditor read groups, prices, budgets and usage, and change nothing', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await ctx.newPage();
      await signInConsole(page, admin.url, 'auditor@example.com');
      await nav(page).getByRole('link', { name: 'Groups' }).click();
      await page.getByRole('link', { name: 'Legal' }).waitFor();
      expect(await page.getByRole('form', { name: 'Create a group' }).count()).toBe(0);
      await nav(page).getByRole('link', { name: 'Model access & prices' }).click();
      await page.getByRole('row', { name: /sim-large/ }).waitFor();
      expect(await page.getByRole('button', { name: /^Edit / }).count()).toBe(0);
      await nav(page).getByRole('link', { name: 'Budgets' }).click();
      await page.getByRole('cell', { name: 'group: Legal' }).waitFor();
      expect(await page.getByRole('form', { name: 'Set a budget' }).count()).toBe(0);
      await nav(page).getByRole('link', { name: 'Usage & cost' }).click();
      await page.getByRole('row', { name: /^Legal / }).waitFor();

      const [{ id: groupId }] = await h.dataSource.query(`SELECT id FROM groups LIMIT 1`);
      const refused = [
        await consoleWrite(page, admin.url, 'POST', '/api/admin/groups', { name: 'Mine' }),
        await consoleWrite(page, admin.url, 'PUT', '/api/admin/model-access', {
          model: 'sim-large',
          groupIds: [],
        }),
        await consoleWrite(page, admin.url, 'PUT', '/api/admin/prices', {
          model: 'sim-large',
          inputPerMillion: 0,
          outputPerMillion: 0,
        }),
        await consoleWrite(page, admin.url, 'PUT', '/api/admin/budgets', {
          scope: 'group',
          subjectId: groupId,
          unit: 'tokens',
          period: 'day',
          limit: 1,
        }),
        await consoleWrite(page, admin.url, 'DELETE', `/api/admin/groups/${groupId}`),
      ];
      expect(refused).toEqual(refused.map(() => ({ status: 403, code: 'forbidden' })));
      const [{ groups, access }] = await h.dataSource.query(
        `SELECT (SELECT count(*)::int FROM groups) AS groups,
                (SELECT count(*)::int FROM model_access) AS access`,
      );
      expect({ groups, access }).toEqual({ groups: 1, access: 1 });
    } finally {
      await ctx.close();
    }
  });
});
