import { readFileSync } from 'node:fs';
import { PolicyService, QuotasRepository } from '@enclave/policy';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ChatHarness } from '../support/chat-harness.js';
import {
  addBackend,
  answers,
  answerSettled,
  launchChromium,
  pageWidth,
  passwordUser,
  signIn,
} from '../support/browser.js';
import { PASSWORD } from '../support/auth.js';

// How the chat page looks and reads, in real headless Chromium: Markdown with tables, math and
// highlighted code, light and dark, English, German and French, at desktop and phone widths; the
// profile page (API keys), export, and the bugs of issue 21 (model picker, drafts, an empty
// "New chat" after a refused first message, the phone header).

const RICH = [
  'Revenue by region:',
  '',
  '| Region | Revenue |',
  '| ------ | ------: |',
  '| North  | 1200    |',
  '| South  | 900     |',
  '',
  '- [x] tables',
  '- [ ] ~~nothing else~~',
  '',
  'Energy is $E = mc^2$, and the sum:',
  '',
  '$$',
  '\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}',
  '$$',
  '',
  '```js',
  'const answer = 42; // the answer',
  '```',
  '',
  '<b onmouseover="window.__xss=1">raw html</b>',
].join('\n');

const LIGHT_BG = 'rgb(246, 247, 249)';
const DARK_BG = 'rgb(20, 23, 28)';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

describe('chat web UI: look, languages, profile and the issue 21 bugs', () => {
  let h: ChatHarness;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    h = await ChatHarness.start({ replyTokens: 12 });
    const alt = await h.extraSim({ models: ['enclave-alt'], replyTokens: 8 });
    await addBackend(h, 'alt-sim', alt.url, ['enclave-alt']);
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await h?.stop();
  });

  async function open(
    options: {
      viewport?: { width: number; height: number };
      colorScheme?: 'light' | 'dark';
      locale?: string;
    } = {},
  ): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({
      viewport: options.viewport ?? DESKTOP,
      isMobile: options.viewport === PHONE,
      colorScheme: options.colorScheme ?? 'light',
      locale: options.locale ?? 'en-US',
      timezoneId: 'UTC',
      acceptDownloads: true,
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    contexts.push(context);
    return { context, page: await context.newPage() };
  }

  async function send(page: Page, text: string) {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Send' }).click();
  }

  function conversationIdOf(page: Page): string {
    return /\/c\/([0-9a-f-]{36})$/.exec(new URL(page.url()).pathname)![1]!;
  }

  /** A conversation whose answer is RICH, stored as the chat app would have stored it. */
  async function richConversation(userId: string, title = 'Quarterly figures'): Promise<string> {
    const [{ id }] = await h.dataSource.query(
      `INSERT INTO conversations (user_id, title, model) VALUES ($1, $2, 'enclave-sim') RETURNING id`,
      [userId, title],
    );
    await h.dataSource.query(
      `INSERT INTO messages (conversation_id, user_id, role, content, model, upstream, outcome, created_at)
       VALUES ($1, $2, 'user', 'Show me the figures', 'enclave-sim', NULL, NULL, now() - interval '1 minute'),
              ($1, $2, 'assistant', $3, 'enclave-sim', 'gpu-1', 'completed', now())`,
      [id, userId, RICH],
    );
    return id as string;
  }

  const background = (page: Page) =>
    page.evaluate('getComputedStyle(document.documentElement).backgroundColor');

  describe.each([
    ['desktop', 'light', DESKTOP],
    ['desktop', 'dark', DESKTOP],
    ['phone', 'light', PHONE],
    ['phone', 'dark', PHONE],
  ] as const)('at %s width in %s mode', (name, scheme, viewport) => {
    it('renders tables, task lists, math and highlighted code; raw HTML stays text', async () => {
      const email = `look-${name}-${scheme}@example.com`;
      const user = await passwordUser(h, email);
      const id = await richConversation(user.userId);
      const { page } = await open({ viewport, colorScheme: scheme });
      const blocked: string[] = [];
      page.on('console', (m) => {
        if (/Content.Security.Policy/i.test(m.text())) blocked.push(m.text());
      });
      const fonts: string[] = [];
      page.on('request', (r) => {
        if (r.resourceType() === 'font') fonts.push(r.url());
      });
      await signIn(page, h.baseURL, email);
      await page.goto(`${h.baseURL}/c/${id}`);
      const answer = answers(page).last();
      await answer.locator('.katex').first().waitFor();

      // The system's colour scheme is followed.
      expect(await background(page)).toBe(scheme === 'dark' ? DARK_BG : LIGHT_BG);
      // GFM
      expect(await answer.locator('table th').allInnerTexts()).toEqual(['Region', 'Revenue']);
      expect(await answer.locator('table td').first().innerText()).toBe('North');
      expect(await answer.locator('input[type="checkbox"]').count()).toBe(2);
      expect(await answer.locator('input[type="checkbox"]').first().isChecked()).toBe(true);
      expect(await answer.locator('del').innerText()).toBe('nothing else');
      // Math: inline and display, as MathML for screen readers and KaTeX's HTML for the eye.
      expect(await answer.locator('.katex-display').count()).toBe(1);
      expect(await answer.locator('annotation').first().textContent()).toBe('E = mc^2');
      // Highlighted code
      expect(await answer.locator('code.hljs .hljs-keyword').first().innerText()).toBe('const');
      expect(await answer.locator('code.hljs .hljs-comment').innerText()).toBe('// the answer');
      // Raw HTML is shown as text, never as an element.
      await answer.getByText('<b onmouseover="window.__xss=1">').waitFor();
      expect(await answer.locator('b[onmouseover]').count()).toBe(0);

      // KaTeX's fonts come from our own origin, and nothing broke the CSP.
      await page.evaluate('document.fonts.ready');
      expect(fonts.length).toBeGreaterThan(0);
      for (const url of fonts) expect(url.startsWith(`${h.baseURL}/assets/`)).toBe(true);
      expect(await page.evaluate("document.fonts.check('16px KaTeX_Main')")).toBe(true);
      expect(blocked).toEqual([]);

      // Nothing scrolls sideways; the whole email fits in the header (it was cut to "s.").
      expect(await pageWidth(page)).toBeLessThanOrEqual(viewport.width);
      const who = page.locator('.topbar .who');
      expect(await who.innerText()).toBe(email);
      const [textWidth, shownWidth] = await who.evaluate(
        (el: { scrollWidth: number; clientWidth: number }) => [el.scrollWidth, el.clientWidth],
      );
      expect(textWidth).toBeLessThanOrEqual(shownWidth!);
      const box = (await who.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
    });
  });

  it('switches between light, dark and system colours, and remembers the choice', async () => {
    const email = 'theme@example.com';
    await passwordUser(h, email);
    const { page } = await open({ colorScheme: 'dark' });
    await signIn(page, h.baseURL, email);
    expect(await background(page)).toBe(DARK_BG);
    await page.getByLabel('Colour scheme').selectOption('light');
    expect(await background(page)).toBe(LIGHT_BG);
    await page.reload();
    await page.getByLabel('Message', { exact: true }).waitFor();
    expect(await background(page)).toBe(LIGHT_BG);
    await page.getByLabel('Colour scheme').selectOption('system');
    expect(await background(page)).toBe(DARK_BG);
  });

  it('speaks the browser’s language, switches on request, and formats dates in it', async () => {
    const email = 'sprache@example.com';
    const user = await passwordUser(h, email);
    await richConversation(user.userId, 'Zahlen');
    await h.dataSource.query(
      `UPDATE conversations SET updated_at = '2026-03-14T09:00:00Z' WHERE user_id = $1`,
      [user.userId],
    );
    const { page } = await open({ locale: 'fr-FR' });
    await page.goto(h.baseURL);
    await page.getByRole('heading', { name: 'Se connecter à Enclave' }).waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('fr');

    await page.getByLabel('Langue').selectOption('de');
    await page.getByRole('heading', { name: 'Bei Enclave anmelden' }).waitFor();
    await page.getByLabel('E-Mail').fill(email);
    await page.getByLabel('Passwort').fill(PASSWORD);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByRole('button', { name: 'Neuer Chat' }).waitFor();
    // Dates in the chosen language (Intl), not the browser's.
    const date = new Intl.DateTimeFormat('de', { dateStyle: 'medium', timeZone: 'UTC' }).format(
      new Date('2026-03-14T09:00:00Z'),
    );
    await page.getByRole('navigation', { name: 'Unterhaltungen' }).getByText(date).waitFor();

    // What the page said before a switch is said again in the new language.
    await page.getByRole('navigation', { name: 'Unterhaltungen' }).getByText('Zahlen').click();
    const answer = page.locator('li.message.assistant').last();
    await answer.getByRole('button', { name: 'Gute Antwort' }).click();
    await answer.getByText('Danke für Ihre Rückmeldung.').waitFor();
    await page.getByLabel('Sprache').selectOption('fr');
    await answer.getByText('Merci pour votre avis.').waitFor();
    await page.getByLabel('Langue').selectOption('de');

    // Remembered in this browser.
    await page.reload();
    await page.getByRole('button', { name: 'Neuer Chat' }).waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('de');
  });

  it('keeps the conversation’s model in the picker, so the next message goes to it', async () => {
    const email = 'picker@example.com';
    const user = await passwordUser(h, email);
    const { page } = await open();
    await signIn(page, h.baseURL, email);
    await page.getByLabel('Model').selectOption('enclave-alt');
    await send(page, 'Talk to the alternative');
    await answerSettled(page);
    const altId = conversationIdOf(page);

    // A new chat with another model becomes the last global choice …
    await page.getByRole('button', { name: 'New chat' }).click();
    await page.getByLabel('Model').selectOption('enclave-sim');
    await send(page, 'Talk to the simulator');
    await answerSettled(page);

    // … but the first conversation still shows, and uses, its own model.
    await page
      .getByRole('navigation', { name: 'Conversations' })
      .getByRole('button', { name: /Talk to the alternative/ })
      .click();
    await answerSettled(page);
    expect(await page.getByLabel('Model').inputValue()).toBe('enclave-alt');
    await send(page, 'And again');
    await answerSettled(page);
    const models = await h.dataSource.query(
      `SELECT DISTINCT model FROM messages WHERE conversation_id = $1 AND user_id = $2`,
      [altId, user.userId],
    );
    expect(models).toEqual([{ model: 'enclave-alt' }]);
    // A new chat starts with the last choice.
    await page.getByRole('button', { name: 'New chat' }).click();
    expect(await page.getByLabel('Model').inputValue()).toBe('enclave-sim');
  });

  it('keeps a typed draft when the session ends, and restores it after signing in', async () => {
    const email = 'drafter@example.com';
    await passwordUser(h, email);
    const { context, page } = await open();
    await signIn(page, h.baseURL, email);
    await send(page, 'First things first');
    await answerSettled(page);
    const id = conversationIdOf(page);

    const draft = 'A long thought I do not want to type twice';
    await page.getByLabel('Message', { exact: true }).fill(draft);
    await context.clearCookies(); // the session ends (as when it expires)
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('Your session has ended; sign in again.').waitFor();

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await answerSettled(page);
    expect(conversationIdOf(page)).toBe(id);
    expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe(draft);
    // Only the first message was stored.
    expect(await h.count('SELECT 1 FROM messages WHERE conversation_id = $1', [id])).toBe(2);

    // Each conversation keeps its own draft; sending clears it.
    await page.getByRole('button', { name: 'New chat' }).click();
    expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe('');
    await page.reload();
    await page.getByLabel('Message', { exact: true }).waitFor();
    await page.goto(`${h.baseURL}/c/${id}`);
    await answerSettled(page);
    expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe(draft);
    await page.getByRole('button', { name: 'Send' }).click();
    await answerSettled(page);
    await page.reload();
    await answerSettled(page);
    expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe('');
  });

  it('leaves no empty "New chat" when the first message is rate-limited', async () => {
    const email = 'limited@example.com';
    const user = await passwordUser(h, email);
    await h.app.get(QuotasRepository).upsert(h.dataSource.manager, {
      scope: 'user',
      subjectId: user.userId,
      requestsPerMinute: 1,
      tokensPerDay: null,
      tokensPerMonth: null,
    });
    await h.app.get(PolicyService).reload();
    const { page } = await open();
    await signIn(page, h.baseURL, email);
    await send(page, 'The one request this minute');
    await answerSettled(page);
    await page.getByRole('button', { name: 'New chat' }).click();
    await send(page, 'Am I allowed?');
    await page.getByRole('alert').filter({ hasText: 'Too many requests right now' }).waitFor();

    // Only the first chat exists; the refused one is gone from the database and the list.
    expect(await h.count('SELECT 1 FROM conversations WHERE user_id = $1', [user.userId])).toBe(1);
    expect(new URL(page.url()).pathname).toBe('/');
    const nav = page.getByRole('navigation', { name: 'Conversations' });
    await nav.getByRole('button', { name: /The one request this minute/ }).waitFor();
    expect(await nav.locator('li').count()).toBe(1);
    expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe('Am I allowed?');
  });

  it('exports a conversation as Markdown and as JSON', async () => {
    const email = 'exporter@example.com';
    const user = await passwordUser(h, email);
    const id = await richConversation(user.userId, 'Figures: Q3 / 2026');
    const { page } = await open();
    await signIn(page, h.baseURL, email);
    await page.goto(`${h.baseURL}/c/${id}`);
    await answers(page).last().locator('.katex').first().waitFor();

    const [md] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export Markdown' }).click(),
    ]);
    expect(md.suggestedFilename()).toBe('Figures-Q3-2026.md');
    const markdown = readFileSync((await md.path())!, 'utf8');
    expect(markdown.startsWith('# Figures: Q3 / 2026\n')).toBe(true);
    expect(markdown).toContain('### You');
    expect(markdown).toContain('Show me the figures');
    expect(markdown).toContain('### Assistant (enclave-sim)');
    expect(markdown).toContain(RICH);

    const [json] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export JSON' }).click(),
    ]);
    expect(json.suggestedFilename()).toBe('Figures-Q3-2026.json');
    const parsed = JSON.parse(readFileSync((await json.path())!, 'utf8')) as {
      conversation: { id: string; title: string; messages: { role: string; content: string }[] };
    };
    expect(parsed.conversation.id).toBe(id);
    expect(parsed.conversation.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Show me the figures'],
      ['assistant', RICH],
    ]);
  });

  describe.each([
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const)('profile page at %s width', (name, viewport) => {
    it('creates an API key shown once, which works, lists it, and revokes it', async () => {
      const email = `keys-${name}@example.com`;
      await passwordUser(h, email);
      const { page } = await open({ viewport });
      await signIn(page, h.baseURL, email);
      await page.locator('.topbar .who').click();
      await page.getByRole('heading', { name: 'Your profile' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/profile');

      await page.getByLabel('Name').fill('laptop scripts');
      await page.getByRole('button', { name: 'Create key' }).click();
      const secret = page.getByLabel('The new API key');
      await secret.waitFor();
      const key = (await secret.innerText()).trim();
      expect(key).toMatch(/^ek_[0-9a-f]{8}_/);
      const models = await fetch(`${h.baseURL}/v1/models`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(models.status).toBe(200);

      const row = page.getByRole('row', { name: /laptop scripts/ });
      await row.getByText('Active').waitFor();
      expect(await page.getByRole('cell', { name: key }).count()).toBe(0);
      expect(await pageWidth(page)).toBeLessThanOrEqual(viewport.width);

      // Shown once: gone after leaving the page.
      await page.reload();
      await row.getByText('Active').waitFor();
      expect(await page.getByLabel('The new API key').count()).toBe(0);

      await row.getByRole('button', { name: 'Revoke laptop scripts' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
      await row.getByText('Revoked').waitFor();
      const after = await fetch(`${h.baseURL}/v1/models`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(after.status).toBe(401);
    });
  });

  it('changes the password from the profile page', async () => {
    const email = 'profile-password@example.com';
    await passwordUser(h, email);
    const { page } = await open();
    await signIn(page, h.baseURL, email);
    await page.locator('.topbar .who').click();
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('heading', { name: 'Change your password' }).waitFor();
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill('quartz meadow lantern 77');
    await page.getByLabel('Repeat the new password').fill('quartz meadow lantern 77');
    await page.getByRole('button', { name: 'Save the new password' }).click();
    await page.getByRole('heading', { name: 'Your profile' }).waitFor();
    const res = await fetch(`${h.baseURL}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'quartz meadow lantern 77' }),
    });
    expect(res.status).toBe(200);
  });
});
