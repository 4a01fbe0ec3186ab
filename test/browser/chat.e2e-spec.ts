import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ChatHarness } from '../support/chat-harness.js';
import {
  addBackend,
  answers,
  answerSettled,
  clipboardText,
  focusedName,
  lastAnswerGrowsPast,
  lastAnswerWords,
  launchChromium,
  pageWidth,
  nameBackendLlmSim,
  passwordUser,
  signIn,
} from '../support/browser.js';

// The chat web UI in real headless Chromium, served by the chat app from its built files: sign
// in, watch an answer stream, stop it, regenerate, rate, rename, search and delete.

interface Row {
  id: string;
  role: string;
  content: string;
  outcome: string | null;
}

describe('chat web UI', () => {
  let h: ChatHarness;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let user: { userId: string; email: string };

  beforeAll(async () => {
    h = await ChatHarness.start({ replyTokens: 24 });
    await nameBackendLlmSim(h);
    // A model that answers slowly and at length: 2000 words at 25 a second.
    const slow = await h.extraSim({
      models: ['enclave-slow'],
      tokensPerSec: 25,
      replyTokens: 2000,
    });
    await addBackend(h, 'slow-sim', slow.url, ['enclave-slow']);
    user = await passwordUser(h, 'dana@example.com');
    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await h?.stop();
  });

  async function messagesOf(conversationId: string): Promise<Row[]> {
    return h.dataSource.query(
      'SELECT id, role, content, outcome FROM messages WHERE conversation_id = $1 ORDER BY created_at, id',
      [conversationId],
    );
  }

  function currentConversationId(): string {
    const m = /\/c\/([0-9a-f-]{36})$/.exec(new URL(page.url()).pathname);
    if (!m) throw new Error(`not on a conversation page: ${page.url()}`);
    return m[1]!;
  }

  async function send(text: string): Promise<void> {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Send' }).click();
  }

  it('serves the page publicly and asks to sign in; a wrong password is refused', async () => {
    await page.goto(h.baseURL);
    await page.getByRole('heading', { name: 'Sign in to Enclave' }).waitFor();
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/\S/);
    expect(await page.getByRole('button', { name: 'New chat' }).count()).toBe(0);
  });

  it('signs in, lists only allowed models, and streams an answer into a new conversation', async () => {
    await signIn(page, h.baseURL, user.email);
    await page.getByLabel('Model').locator('option', { hasText: 'enclave-sim' }).waitFor({
      state: 'attached',
    });
    const options = await page.getByLabel('Model').locator('option').allTextContents();
    expect(options.sort()).toEqual(['enclave-sim', 'enclave-slow', 'sim-large']);

    await page.getByLabel('Model').selectOption('enclave-sim');
    await send('Explain hash chains in one paragraph');
    await answerSettled(page);
    const id = currentConversationId();

    const rows = await messagesOf(id);
    expect(rows.map((r) => [r.role, r.outcome])).toEqual([
      ['user', null],
      ['assistant', 'completed'],
    ]);
    expect((await answers(page).last().locator('.markdown').innerText()).trim()).toBe(
      rows[1]!.content.trim(),
    );
    // The bundled simulator answered: the page says so.
    await page.getByRole('note').filter({ hasText: 'llm-sim' }).waitFor();
    // The conversation got its title from the first message and shows in the list.
    await page
      .getByRole('navigation', { name: 'Conversations' })
      .getByRole('button', { name: /Explain hash chains/ })
      .waitFor();
  });

  it('copies an answer to the clipboard', async () => {
    const answer = answers(page).last();
    await answer.getByRole('button', { name: 'Copy answer' }).click();
    await answer.getByRole('button', { name: 'Copied' }).waitFor();
    const copied = await clipboardText(page);
    expect(copied.trim()).toBe((await answer.locator('.markdown').innerText()).trim());
  });

  it('shows a long answer as it streams, and stops it', async () => {
    await page.getByLabel('Model').selectOption('enclave-slow');
    await send('Tell me everything about audit trails');
    const stop = page.getByRole('button', { name: 'Stop generating' });
    await stop.waitFor();
    // Words appear while the answer is still being written…
    await lastAnswerGrowsPast(page, 4);
    const early = await lastAnswerWords(page);
    await lastAnswerGrowsPast(page, early);
    expect(await stop.isVisible()).toBe(true);
    // The simulator is not the answering backend now.
    expect(await page.getByRole('note').filter({ hasText: 'llm-sim' }).count()).toBe(0);

    await stop.click();
    await page.getByText('Stopped before the end.').waitFor();
    await page.getByRole('button', { name: 'Send' }).waitFor();
    await answerSettled(page);

    const rows = await messagesOf(currentConversationId());
    const last = rows.at(-1)!;
    expect(last).toMatchObject({ role: 'assistant', outcome: 'client_disconnected' });
    const stored = last.content.split(/\s+/).filter(Boolean).length;
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(2000);
  });

  it('regenerates the last answer: the old one stays stored as an earlier version', async () => {
    await page.getByLabel('Model').selectOption('enclave-sim');
    const id = currentConversationId();
    const before = (await messagesOf(id)).at(-1)!;
    await answers(page).last().getByRole('button', { name: 'Regenerate' }).click();
    await page.getByText('Stopped before the end.').waitFor({ state: 'detached' });
    await answerSettled(page);

    const rows = await messagesOf(id);
    expect(rows.map((r) => r.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
      'assistant',
    ]);
    expect(rows[3]!.id).toBe(before.id);
    const after = rows.at(-1)!;
    expect(after.id).not.toBe(before.id);
    expect(after.outcome).toBe('completed');
    expect((await answers(page).last().locator('.markdown').innerText()).trim()).toBe(
      after.content.trim(),
    );
  });

  it('takes a thumbs down with a comment and stores it with the model and backend', async () => {
    const id = currentConversationId();
    const answer = answers(page).last();
    await answer.getByRole('button', { name: 'Bad answer' }).click();
    await answer.getByLabel(/What was wrong/).fill('It ignored my question about Lisbon.');
    await answer.getByRole('button', { name: 'Send feedback' }).click();
    await answer.getByText('Thanks, your feedback and comment are saved.').waitFor();
    expect(
      await answer.getByRole('button', { name: 'Bad answer' }).getAttribute('aria-pressed'),
    ).toBe('true');

    const messageId = (await messagesOf(id)).at(-1)!.id;
    const rows = await h.dataSource.query(
      'SELECT user_id, rating, comment, model, backend FROM feedback WHERE message_id = $1',
      [messageId],
    );
    expect(rows).toEqual([
      {
        user_id: user.userId,
        rating: 'down',
        comment: 'It ignored my question about Lisbon.',
        model: 'enclave-sim',
        backend: 'llm-sim',
      },
    ]);

    // Opened again later, the page remembers the rating.
    await page.reload();
    await answerSettled(page);
    expect(
      await answers(page)
        .last()
        .getByRole('button', { name: 'Bad answer' })
        .getAttribute('aria-pressed'),
    ).toBe('true');
  });

  it('renames a conversation and finds it by searching its title', async () => {
    const id = currentConversationId();
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('Conversation title').fill('Audit trail notes');
    await page.getByLabel('Conversation title').press('Enter');
    await page.getByRole('heading', { name: 'Audit trail notes' }).waitFor();
    const [{ title }] = await h.dataSource.query('SELECT title FROM conversations WHERE id = $1', [
      id,
    ]);
    expect(title).toBe('Audit trail notes');

    const nav = page.getByRole('navigation', { name: 'Conversations' });
    await nav.getByRole('button', { name: 'New chat' }).click();
    await send('Packing list for Lisbon');
    await answerSettled(page);
    await nav.getByRole('button', { name: /Packing list for Lisbon/ }).waitFor();

    await page.getByLabel('Search your conversations').fill('trail not');
    await nav.getByRole('button', { name: /Audit trail notes/ }).waitFor();
    expect(await nav.getByRole('button', { name: /Packing list/ }).count()).toBe(0);
    expect(await nav.getByRole('button', { name: /Audit trail notes/ }).count()).toBe(1);
    await page.getByLabel('Search your conversations').fill('');
    await nav.getByRole('button', { name: /Packing list/ }).waitFor();
  });

  it('deletes a conversation after asking', async () => {
    const id = currentConversationId();
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this conversation?' });
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'New chat' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Conversations' });
    await nav.getByRole('button', { name: /Packing list/ }).waitFor({ state: 'detached' });
    expect(await nav.getByRole('button', { name: /Audit trail notes/ }).count()).toBe(1);
    expect(await h.count('SELECT 1 FROM conversations WHERE id = $1', [id])).toBe(0);
    expect(await h.count('SELECT 1 FROM messages WHERE conversation_id = $1', [id])).toBe(0);
  });

  it('works with the keyboard alone', async () => {
    const keyboardPage = await context.newPage();
    try {
      await keyboardPage.goto(h.baseURL);
      await keyboardPage.getByRole('button', { name: 'New chat' }).waitFor();
      // The skip link is the first stop and lands in the message box.
      await keyboardPage.keyboard.press('Tab');
      expect(await focusedName(keyboardPage)).toBe('Skip to the message box');
      await keyboardPage.keyboard.press('Enter');
      expect(await focusedName(keyboardPage)).toBe('prompt');
      await keyboardPage.keyboard.type('Hello from the keyboard');
      await keyboardPage.keyboard.press('Enter');
      await answerSettled(keyboardPage);
      // Tab reaches the answer's thumbs; Space presses one.
      for (let i = 0; i < 40 && (await focusedName(keyboardPage)) !== 'Good answer'; i++) {
        await keyboardPage.keyboard.press('Tab');
      }
      expect(await focusedName(keyboardPage)).toBe('Good answer');
      await keyboardPage.keyboard.press('Space');
      await keyboardPage.getByText('Thanks for the feedback.').waitFor();
    } finally {
      await keyboardPage.close();
    }
  });

  it('pages through a long conversation list', async () => {
    await h.dataSource.query(
      `INSERT INTO conversations (user_id, title, updated_at)
       SELECT $1, 'Old note ' || lpad(n::text, 2, '0'), now() - make_interval(days => n)
         FROM generate_series(1, 25) n`,
      [user.userId],
    );
    const total = await h.count('SELECT 1 FROM conversations WHERE user_id = $1', [user.userId]);
    await page.goto(h.baseURL);
    const nav = page.getByRole('navigation', { name: 'Conversations' });
    const items = nav.locator('li');
    await nav.getByRole('button', { name: 'Load more' }).waitFor();
    expect(await items.count()).toBe(20);
    await nav.getByRole('button', { name: 'Load more' }).click();
    await nav.getByRole('button', { name: /Old note 25/ }).waitFor();
    expect(await items.count()).toBe(total);
    expect(await nav.getByRole('button', { name: 'Load more' }).count()).toBe(0);
  });

  it('fits a phone-sized screen: the list opens over the page', async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
    });
    try {
      const p = await phone.newPage();
      await signIn(p, h.baseURL, user.email);
      const nav = p.getByRole('navigation', { name: 'Conversations' });
      expect(await nav.isVisible()).toBe(false);
      const composer = await p.getByLabel('Message', { exact: true }).boundingBox();
      expect(composer!.x + composer!.width).toBeLessThanOrEqual(390);
      expect(await pageWidth(p)).toBeLessThanOrEqual(390);

      await p.getByRole('button', { name: 'Conversations' }).click();
      await nav.waitFor();
      await nav.getByRole('button', { name: /Hello from the keyboard/ }).click();
      await nav.waitFor({ state: 'hidden' });
      await answerSettled(p);
    } finally {
      await phone.close();
    }
  });
});
