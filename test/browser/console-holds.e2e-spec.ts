import type { INestApplication } from '@nestjs/common';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ChatHarness } from '../support/chat-harness.js';
import {
  consoleWrite,
  launchChromium,
  passwordUser,
  signInConsole,
  startAdminApp,
} from '../support/browser.js';

// Legal holds and erasure in the console (the audit retention API, wt-retention): an admin
// places a hold, sees the erasure of the held person refused, releases the hold and erases; an
// auditor sees the holds without the controls, and the API refuses them the changes.

describe('admin console: legal holds and erasure', () => {
  let h: ChatHarness;
  let admin: { app: INestApplication; url: string };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let staff: { userId: string; email: string };

  beforeAll(async () => {
    h = await ChatHarness.start();
    admin = await startAdminApp(h);
    await passwordUser(h, 'root@example.com', 'admin');
    await passwordUser(h, 'auditor@example.com', 'auditor');
    staff = await passwordUser(h, 'leaver@example.com', 'user');
    const [{ id }] = await h.dataSource.query(
      `INSERT INTO conversations (user_id, title, model) VALUES ($1, 'Private matter', 'enclave-sim') RETURNING id`,
      [staff.userId],
    );
    await h.dataSource.query(
      `INSERT INTO messages (conversation_id, user_id, role, content, model)
       VALUES ($1, $2, 'user', 'my home address is 1 Main St', 'enclave-sim')`,
      [id, staff.userId],
    );
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await signInConsole(page, admin.url, 'root@example.com');
    await page
      .getByRole('navigation', { name: 'Console' })
      .getByRole('link', { name: 'Audit' })
      .click();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await admin?.app.close();
    await h?.stop();
  });

  const holds = () => page.getByRole('region', { name: 'Legal holds' });

  it('places a hold on a person, and their erasure is refused while it holds', async () => {
    const place = holds().getByRole('form', { name: 'Place a hold' });
    await place.getByLabel('Person').selectOption({ label: staff.email });
    await place.getByLabel('Reason').fill('litigation LIT-2026-07');
    await place.getByRole('button', { name: 'Place hold' }).click();
    const row = holds().getByRole('row').filter({ hasText: 'litigation LIT-2026-07' });
    await row.getByText('Active').waitFor();

    const erase = holds().getByRole('form', { name: "Erase a person's data" });
    await erase.getByLabel('Person').selectOption({ label: staff.email });
    await erase.getByLabel('Reason').fill('erasure request DSR-118');
    await erase.getByRole('button', { name: 'Erase…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Erase for good' }).click();
    await erase.getByRole('alert').waitFor();
    const [{ content }] = await h.dataSource.query(
      'SELECT content FROM messages WHERE user_id = $1',
      [staff.userId],
    );
    expect(content).toBe('my home address is 1 Main St');
  });

  it('releases the hold, then erases the person', async () => {
    const row = holds().getByRole('row').filter({ hasText: 'litigation LIT-2026-07' });
    await row.getByRole('button', { name: 'Release' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Release hold' }).click();
    await row.getByText(/^Released/).waitFor();

    const erase = holds().getByRole('form', { name: "Erase a person's data" });
    await erase.getByLabel('Person').selectOption({ label: staff.email });
    await erase.getByLabel('Reason').fill('erasure request DSR-118');
    await erase.getByRole('button', { name: 'Erase…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Erase for good' }).click();
    await erase
      .getByRole('status')
      .filter({ hasText: /Erased: \d+ audit payloads, 1 messages/ })
      .waitFor();
    const [{ content }] = await h.dataSource.query(
      'SELECT content FROM messages WHERE user_id = $1',
      [staff.userId],
    );
    expect(content).not.toContain('1 Main St');
  });

  it('shows an auditor the holds without controls; the API refuses them the changes', async () => {
    const ctx = await browser.newContext();
    try {
      const p = await ctx.newPage();
      await signInConsole(p, admin.url, 'auditor@example.com');
      await p
        .getByRole('navigation', { name: 'Console' })
        .getByRole('link', { name: 'Audit' })
        .click();
      const region = p.getByRole('region', { name: 'Legal holds' });
      await region.getByText('litigation LIT-2026-07').waitFor();
      expect(await region.getByRole('button').count()).toBe(0);
      expect(await region.getByRole('form').count()).toBe(0);

      const refused = [
        await consoleWrite(p, admin.url, 'POST', '/api/admin/audit/holds', {
          userId: staff.userId,
          reason: 'auditor tries a hold',
        }),
        await consoleWrite(p, admin.url, 'POST', '/api/admin/audit/erasures', {
          userId: staff.userId,
          reason: 'auditor tries an erasure',
        }),
      ];
      for (const r of refused) expect(r).toEqual({ status: 403, code: 'forbidden' });
    } finally {
      await ctx.close();
    }
  });
});
