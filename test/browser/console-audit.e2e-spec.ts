import type { INestApplication } from '@nestjs/common';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { generateSigningKey, type SigningKey, verifyExport } from '@enclave/audit-chain';
import { AuditAppModule } from '../../apps/audit/src/audit.module.js';
import { startApp } from '../support/app.js';
import { ChatHarness } from '../support/chat-harness.js';
import {
  attributeContains,
  consoleWrite,
  launchChromium,
  passwordUser,
  signInConsole,
  startAdminApp,
  xssMarker,
} from '../support/browser.js';

// The admin console's pages on the dashboard, policies, conversations and audit API, in real
// headless Chromium: charts that move with traffic, a conversation opened with a reason (its
// hostile text staying text), and an audit export created, polled and downloaded, by an admin
// and by an auditor whose changes the API refuses.

const XSS_USER = '<script>window.__xss=1</script> what does this do?';
const XSS_ANSWER = '<img src=x onerror="window.__xss=2"> is an image that runs script on error';

describe('admin console: dashboard, conversations and audit', () => {
  let h: ChatHarness;
  let admin: { app: INestApplication; url: string };
  let audit: INestApplication;
  let dataDir: string;
  let signingKey: SigningKey;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dialogs: string[];
  let conversationId: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'enclave-console-'));
    signingKey = generateSigningKey(join(dataDir, 'audit', 'signing-key.pem'));
    h = await ChatHarness.start({}, { ENCLAVE_DATA_DIR: dataDir, AUDIT_SEAL_INTERVAL_MS: '50' });
    admin = await startAdminApp(h);
    // The audit app seals the chain (and writes exports, where the API hands them to it).
    audit = await startApp(AuditAppModule.forRoot(h.config), h.config);
    await passwordUser(h, 'root@example.com', 'admin');
    await passwordUser(h, 'auditor@example.com', 'auditor');
    const staff = await passwordUser(h, 'staff@example.com', 'user');
    conversationId = await hostileConversation(staff.userId);
    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    dialogs = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await signInConsole(page, admin.url, 'root@example.com');
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await audit?.close();
    await admin?.app.close();
    await h?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const nav = (p: Page) => p.getByRole('navigation', { name: 'Console' });

  /** A conversation whose question and answer hold markup that must never run. */
  async function hostileConversation(userId: string): Promise<string> {
    const [{ id }] = await h.dataSource.query(
      `INSERT INTO conversations (user_id, title, model) VALUES ($1, $2, 'enclave-sim') RETURNING id`,
      [userId, 'Odd <b>markup</b> question'],
    );
    await h.dataSource.query(
      `INSERT INTO messages (conversation_id, user_id, role, content, model, created_at)
       VALUES ($1, $2, 'user', $3, 'enclave-sim', now() - interval '1 minute')`,
      [id, userId, XSS_USER],
    );
    await h.dataSource.query(
      `INSERT INTO messages (conversation_id, user_id, role, content, model, upstream, outcome)
       VALUES ($1, $2, 'assistant', $3, 'enclave-sim', 'llm-sim', 'completed')`,
      [id, userId, XSS_ANSWER],
    );
    return id;
  }

  it('draws the dashboard charts and moves them after traffic', async () => {
    await nav(page).getByRole('link', { name: 'Dashboard' }).click();
    const requests = page.getByRole('img', { name: /^Requests per minute:/ });
    await requests.waitFor();
    for (const title of [
      'Latency',
      'Time to first token',
      'Tokens per minute',
      'Error and cache-hit rate',
    ]) {
      await page.getByRole('img', { name: new RegExp(`^${title}:`) }).waitFor();
    }
    const before = await requests.getAttribute('aria-label');
    const drawnBefore = await requests.innerHTML();

    const { client } = await h.user('traffic@example.com');
    for (let i = 0; i < 3; i++) {
      await client.chat.completions.create({
        model: 'enclave-sim',
        messages: [{ role: 'user', content: `hello ${i}` }],
      });
    }
    const stream = await client.chat.completions.create({
      model: 'enclave-sim',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
    });
    for await (const _chunk of stream) {
      // drain
    }

    // The page refreshes on its own every few seconds.
    // The hostile conversation's stored answer counts as one request already.
    const counted = Number(/: (\d+) requests?,/.exec(before ?? '')?.[1]);
    expect(counted).toBeGreaterThanOrEqual(0);
    await attributeContains(page, 'figure.chart svg', 'aria-label', `: ${counted + 4} requests,`);
    // The line itself moved: its per-minute points (the hover titles) add up to the new total.
    expect(await requests.innerHTML()).not.toBe(drawnBefore);
    const perMinute = await requests.locator('rect.hover title').allTextContents();
    const sum = perMinute
      .map((t) => Number(/Requests: (\d+)/.exec(t)?.[1] ?? 0))
      .reduce((a, b) => a + b, 0);
    expect(sum).toBe(counted + 4);
    const tokens = await page
      .getByRole('img', { name: /^Tokens per minute:/ })
      .getAttribute('aria-label');
    expect(tokens).not.toMatch(/\b0 completion tokens/);
    await page.getByRole('region', { name: 'Backends' }).getByText('Healthy').first().waitFor();
  });

  it('saves policies through the API, audited with before and after', async () => {
    await nav(page).getByRole('link', { name: 'Policies' }).click();
    await page.getByLabel('Audit content of chat requests').selectOption('full');
    await page.getByLabel('Keep conversation messages (days; empty: forever)').fill('90');
    await page.getByRole('button', { name: 'Save policies' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const [event] = await h.dataSource.query(
      `SELECT payload FROM audit_events WHERE action = 'admin.policies.updated' ORDER BY id DESC LIMIT 1`,
    );
    expect(event.payload.before).toMatchObject({ auditContent: 'metadata' });
    expect(event.payload.after).toMatchObject({ auditContent: 'full', messageRetentionDays: 90 });
  });

  it('opens a conversation only with a reason, and shows its markup as inert text', async () => {
    await nav(page).getByRole('link', { name: 'Conversations' }).click();
    // The list shows who and when, never the title (it is the start of the first message).
    await page.getByLabel('Search by user').fill('staff@');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: 'staff@example.com', exact: true }).waitFor();
    expect(await page.getByText('markup').count()).toBe(0);
    await page
      .getByRole('button', { name: /^Open the conversation of staff@example\.com/ })
      .click();

    const dialog = page.getByRole('dialog', { name: 'Why do you open this conversation?' });
    const open = dialog.getByRole('button', { name: 'Open conversation' });
    await dialog.getByLabel('Reason').fill('abc');
    expect(await open.isDisabled()).toBe(true);
    await dialog.getByLabel('Reason').fill('ticket SEC-42: reported prompt injection');
    await open.click();

    const transcript = page.locator('ol.transcript');
    await transcript.getByText(XSS_USER, { exact: true }).waitFor();
    await transcript.getByText(XSS_ANSWER, { exact: true }).waitFor();
    expect(await transcript.locator('script, img, b').count()).toBe(0);
    await page.getByRole('heading', { name: 'Odd <b>markup</b> question' }).waitFor();
    expect(await xssMarker(page)).toBeUndefined();
    expect(dialogs).toEqual([]);

    const [event] = await h.dataSource.query(
      `SELECT payload, target_id FROM audit_events WHERE action = 'admin.conversation.opened' ORDER BY id DESC LIMIT 1`,
    );
    expect(event.target_id).toBe(conversationId);
    expect(JSON.stringify(event.payload)).toContain('ticket SEC-42: reported prompt injection');
  });

  it('shows the chain status, verifies it, and finds events by action', async () => {
    await nav(page).getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.getByRole('status').filter({ hasText: 'The chain is intact' }).waitFor();

    await page.getByLabel('Action').fill('admin.conversation.opened');
    await page.getByRole('button', { name: 'Search events' }).click();
    const rows = page.getByRole('region', { name: 'Events' }).locator('tbody tr');
    await rows.first().getByText('admin.conversation.opened').waitFor();
    // The unfiltered list may already start with that event: wait for the search's answer.
    await rows.nth(1).waitFor({ state: 'detached' });
    expect(await rows.count()).toBe(1);
  });

  it('creates an export, polls it until done, and downloads files that verify offline', async () => {
    const exports = page.getByRole('region', { name: 'Exports' });
    await page.getByLabel('Action').fill('');
    await exports.getByLabel('Format').selectOption('jsonl');
    await exports.getByRole('button', { name: 'Create export' }).click();
    const row = exports.locator('tbody tr').first();
    await row.getByText('done', { exact: true }).waitFor({ timeout: 30_000 });

    const data = await download(page, row.getByRole('link', { name: 'Data' }));
    const lines = data.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(() => lines.map((l) => JSON.parse(l))).not.toThrow();
    const manifest = await download(page, row.getByRole('link', { name: 'Manifest' }));
    const links = await download(page, row.getByRole('link', { name: 'Links' }));

    // What the browser saved is the real export: it verifies offline with the public key alone.
    const parsed = JSON.parse(manifest) as {
      dataFile: { name: string };
      linksFile: { name: string };
    };
    const saved = join(dataDir, 'downloaded');
    mkdirSync(saved);
    writeFileSync(join(saved, 'manifest.json'), manifest);
    writeFileSync(join(saved, parsed.dataFile.name), data);
    writeFileSync(join(saved, parsed.linksFile.name), links);
    const verdict = await verifyExport(join(saved, 'manifest.json'), signingKey.publicKey);
    expect(verdict.problems).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.events).toBe(lines.length);

    const downloads = await h.dataSource.query(
      `SELECT 1 FROM audit_events WHERE action = 'audit.export.downloaded'`,
    );
    expect(downloads.length).toBeGreaterThanOrEqual(3);
  });

  it('lets an auditor read and export, and the API refuses their changes', async () => {
    const ctx = await browser.newContext({ acceptDownloads: true });
    try {
      const p = await ctx.newPage();
      await signInConsole(p, admin.url, 'auditor@example.com');
      await nav(p).getByRole('link', { name: 'Dashboard' }).click();
      await p.getByRole('img', { name: /^Requests per minute:/ }).waitFor();

      await nav(p).getByRole('link', { name: 'Audit' }).click();
      const exports = p.getByRole('region', { name: 'Exports' });
      await exports.getByLabel('Format').selectOption('csv');
      await exports.getByRole('button', { name: 'Create export' }).click();
      const row = exports.locator('tbody tr').filter({ hasText: 'csv' }).first();
      await row.getByText('done', { exact: true }).waitFor({ timeout: 30_000 });
      expect((await download(p, row.getByRole('link', { name: 'Data' }))).length).toBeGreaterThan(
        0,
      );

      const refused = [
        await consoleWrite(p, admin.url, 'PATCH', '/api/admin/policies', { auditContent: 'none' }),
        await consoleWrite(p, admin.url, 'POST', '/api/admin/users', {
          email: 'x@example.com',
          role: 'admin',
        }),
        await consoleWrite(p, admin.url, 'POST', '/api/admin/backends', {
          name: 'evil',
          baseUrl: 'http://127.0.0.1:9/v1',
        }),
      ];
      for (const r of refused) expect(r).toEqual({ status: 403, code: 'forbidden' });
      const [{ value }] = await h.dataSource.query(
        `SELECT count(*)::int AS value FROM backends WHERE name = 'evil'`,
      );
      expect(value).toBe(0);
    } finally {
      await ctx.close();
    }
  });
});

/** Clicks a download link and returns the file's text. */
async function download(page: Page, link: ReturnType<Page['getByRole']>): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const path = await file.path();
  return readFileSync(path, 'utf8');
}
