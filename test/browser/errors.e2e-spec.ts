import { createServer } from 'node:net';
import { PolicyService, QuotasRepository } from '@enclave/policy';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ChatHarness } from '../support/chat-harness.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import {
  addBackend,
  answers,
  answerSettled,
  lastAnswerGrowsPast,
  lastAnswerWords,
  launchChromium,
  passwordUser,
  signIn,
  xssMarker,
} from '../support/browser.js';

// What the chat page does when things go wrong or turn hostile: HTML in answers stays text, a
// used-up quota says when it comes back, an unavailable model can be swapped, and a connection
// lost mid-answer keeps the partial answer and offers a retry.

const HOSTILE = [
  'Here is what you asked for:',
  '',
  '<img src=x onerror="window.__xss=1">',
  '',
  '<script>window.__xss=1</script>',
  '',
  '[click me](javascript:window.__xss=1)',
  '',
  '```html',
  '<b onmouseover="window.__xss=1">bold?</b>',
  '```',
].join('\n');

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('chat web UI: errors and hostile content', () => {
  let h: ChatHarness;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    h = await ChatHarness.start({ replyTokens: 16 });
    const slow = await h.extraSim({
      models: ['enclave-slow'],
      tokensPerSec: 25,
      replyTokens: 2000,
    });
    await addBackend(h, 'slow-sim', slow.url, ['enclave-slow']);
    const flaky = await h.extraSim({
      models: ['enclave-flaky'],
      dropRate: 1,
      dropAfterTokens: 3,
    });
    await addBackend(h, 'flaky-sim', flaky.url, ['enclave-flaky']);
    await addBackend(h, 'down-sim', `http://127.0.0.1:${await closedPort()}/v1`, ['enclave-down']);
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    for (const p of proxies) await p.stop();
    await h?.stop();
  });

  /** A fresh browser (own cookies) signed in as a new user; the page's clock reads UTC. */
  async function signedIn(email: string, baseURL = h.baseURL) {
    const user = await passwordUser(h, email);
    const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC' });
    contexts.push(context);
    const page = await context.newPage();
    await signIn(page, baseURL, email);
    await page.getByLabel('Model').selectOption('enclave-sim');
    return { page, user };
  }

  async function send(page: Page, text: string) {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Send' }).click();
  }

  function conversationIdOf(page: Page): string {
    return /\/c\/([0-9a-f-]{36})$/.exec(new URL(page.url()).pathname)![1]!;
  }

  const rolesOf = async (conversationId: string) =>
    (
      await h.dataSource.query(
        'SELECT role, outcome FROM messages WHERE conversation_id = $1 ORDER BY created_at, id',
        [conversationId],
      )
    ).map((r: { role: string; outcome: string | null }) => `${r.role}:${r.outcome ?? '-'}`);

  it('shows HTML and script in an answer as text, and runs none of it', async () => {
    const { page, user } = await signedIn('mallory@example.com');
    const [{ id }] = await h.dataSource.query(
      `INSERT INTO conversations (user_id, title) VALUES ($1, 'Hostile answer') RETURNING id`,
      [user.userId],
    );
    await h.dataSource.query(
      `INSERT INTO messages (conversation_id, user_id, role, content, model, upstream, outcome, created_at)
       VALUES ($1, $2, 'user', 'Show me some HTML', 'enclave-sim', NULL, NULL, now() - interval '1 minute'),
              ($1, $2, 'assistant', $3, 'enclave-sim', 'gpu-1', 'completed', now())`,
      [id, user.userId, HOSTILE],
    );

    await page.goto(`${h.baseURL}/c/${id}`);
    const answer = answers(page).last();
    await answer.getByText('<img src=x onerror="window.__xss=1">').waitFor();
    await answer.getByText('<script>window.__xss=1</script>').waitFor();
    expect(await answer.locator('img, script').count()).toBe(0);
    // The link's javascript: target is dropped.
    const href = await answer.getByRole('link', { name: 'click me' }).getAttribute('href');
    expect(href ?? '').not.toMatch(/^\s*javascript:/i);
    // The code block shows its HTML as code, with a copy button.
    expect(await answer.locator('.code-block pre').innerText()).toContain(
      '<b onmouseover="window.__xss=1">bold?</b>',
    );
    await answer.getByRole('button', { name: 'Copy code' }).waitFor();
    await answer.locator('.code-block pre').hover();
    expect(await xssMarker(page)).toBeUndefined();

    // A person's own HTML is shown as typed, too.
    await send(page, '<img src=y onerror="window.__xss=2"> is this safe?');
    await answerSettled(page);
    await page
      .locator('li.message.user')
      .last()
      .getByText('<img src=y onerror="window.__xss=2"> is this safe?')
      .waitFor();
    expect(await xssMarker(page)).toBeUndefined();
  });

  it('says when a used-up token quota resets, and keeps the unsent message', async () => {
    const { page, user } = await signedIn('quota@example.com');
    await h.app.get(QuotasRepository).upsert(h.dataSource.manager, {
      scope: 'user',
      subjectId: user.userId,
      requestsPerMinute: null,
      tokensPerDay: 5,
      tokensPerMonth: null,
    });
    await h.app.get(PolicyService).reload();

    await send(page, 'First question uses up the quota');
    await answerSettled(page);
    const id = conversationIdOf(page);

    await send(page, 'Second question');
    const alert = page.getByRole('alert').filter({ hasText: 'Your token quota is used up' });
    await alert.waitFor();
    const now = new Date();
    const midnight = new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1),
    );
    const shown = midnight.toLocaleString('en-US', {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'UTC',
    });
    expect(await alert.innerText()).toContain(`resets on ${shown}`);
    // Retrying cannot help before then; the message is back in the box to send later.
    expect(await alert.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe('Second question');
    expect(await rolesOf(id)).toEqual(['user:-', 'assistant:completed']);
  });

  it('names an unavailable model, and answers after switching model and retrying', async () => {
    const { page } = await signedIn('switch@example.com');
    await page.getByLabel('Model').selectOption('enclave-down');
    await send(page, 'Anyone there?');
    const alert = page.getByRole('alert').filter({ hasText: 'is unavailable' });
    await alert.waitFor();
    expect(await alert.innerText()).toContain('The model “enclave-down” is unavailable');

    await page.getByLabel('Model').selectOption('enclave-sim');
    await alert.getByRole('button', { name: 'Retry' }).click();
    await answerSettled(page);
    expect(await page.getByRole('alert').count()).toBe(0);
    // A retry is a new version of the answer: the failed attempt stays stored beside it.
    expect(await rolesOf(conversationIdOf(page))).toEqual([
      'user:-',
      'assistant:upstream_error',
      'assistant:completed',
    ]);
    expect(await answers(page).count()).toBe(1);
    await answers(page).last().getByText('2/2').waitFor();
    // The failed attempt, a version without text, says so and keeps the way back.
    await answers(page).last().getByRole('button', { name: 'Previous version' }).click();
    await answers(page).last().getByText('1/2').waitFor();
    await answers(page).last().getByText('No answer: the model server failed').waitFor();
    await answers(page).last().getByRole('button', { name: 'Next version' }).click();
    await answerSettled(page);
    await answers(page).last().getByText('2/2').waitFor();
  });

  it('retries an edit the model server refused as a new answer to the edited question', async () => {
    const { page } = await signedIn('editor@example.com');
    await send(page, 'How tall is the tower?');
    await answerSettled(page);
    await page.getByLabel('Model').selectOption('enclave-down');
    const question = page.locator('li.message.user').last();
    await question.getByRole('button', { name: 'Edit' }).click();
    await question.getByLabel('Edit your message').fill('How old is the tower?');
    await question.getByRole('button', { name: 'Send edited message' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'is unavailable' });
    await alert.waitFor();

    // The edited question was stored before the model server refused: Retry answers it.
    await page.getByLabel('Model').selectOption('enclave-sim');
    await alert.getByRole('button', { name: 'Retry' }).click();
    await answerSettled(page);
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.locator('li.message.user').last().getByText('How old is the tower?').waitFor();
    const id = conversationIdOf(page);
    expect(await rolesOf(id)).toEqual([
      'user:-',
      'assistant:completed',
      'user:-',
      'assistant:upstream_error',
      'assistant:completed',
    ]);
    const questions: { content: string }[] = await h.dataSource.query(
      `SELECT content FROM messages WHERE conversation_id = $1 AND role = 'user' ORDER BY created_at, id`,
      [id],
    );
    expect(questions.map((q) => q.content)).toEqual([
      'How tall is the tower?',
      'How old is the tower?',
    ]);
  });

  it('keeps the partial answer when the model server breaks off, and offers a retry', async () => {
    const { page } = await signedIn('flaky@example.com');
    await page.getByLabel('Model').selectOption('enclave-flaky');
    await send(page, 'Start and stop');
    const alert = page.getByRole('alert').filter({ hasText: 'The answer broke off' });
    await alert.waitFor();
    expect(await lastAnswerWords(page)).toBeGreaterThan(0);
    await answers(page).last().getByText('Cut off before the end.').waitFor();
    await alert.getByRole('button', { name: 'Retry' }).waitFor();
  });

  it('keeps the partial answer when the connection drops mid-answer, and retries', async () => {
    const proxy = new TcpProxy('127.0.0.1', Number(new URL(h.baseURL).port));
    proxies.push(proxy);
    await proxy.start();
    const { page } = await signedIn('traveller@example.com', `http://127.0.0.1:${proxy.port}`);
    await page.getByLabel('Model').selectOption('enclave-slow');
    await send(page, 'A long story, please');
    await lastAnswerGrowsPast(page, 5);

    await proxy.cut();
    const alert = page.getByRole('alert').filter({ hasText: 'Connection lost' });
    await alert.waitFor();
    const kept = await lastAnswerWords(page);
    expect(kept).toBeGreaterThan(5);
    await answers(page).last().getByText('Cut off before the end.').waitFor();

    await proxy.restore();
    await page.getByLabel('Model').selectOption('enclave-sim');
    await alert.getByRole('button', { name: 'Retry' }).click();
    await answerSettled(page);
    expect(await rolesOf(conversationIdOf(page))).toEqual([
      'user:-',
      'assistant:client_disconnected',
      'assistant:completed',
    ]);
    expect(await answers(page).count()).toBe(1);
    // The partial answer is the first version, one click away.
    await answers(page).last().getByRole('button', { name: 'Previous version' }).click();
    await answers(page).last().getByText('1/2').waitFor();
    // Stored as the server saw it: the reader went away before the end.
    await answers(page).last().getByText('Stopped before the end.').waitFor();
    expect(await lastAnswerWords(page)).toBeGreaterThan(5);
  });
});
