import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { hashPassword, type Role, UsersRepository } from '@enclave/auth';
import { BackendsRepository, UpstreamPool } from '@enclave/llm';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ChatHarness } from './chat-harness.js';
import { AdminAppModule } from '../../apps/admin/src/admin.module.js';
import { startApp } from './app.js';
import { PASSWORD } from './auth.js';

/** Debian's Chromium (`apt-get install chromium`); tests never download a browser. */
export const CHROMIUM_PATH = process.env.ENCLAVE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless Chromium as this machine allows it: no sandbox (root), no GPU, and none of the
 * background connections a closed network refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A user who signs in with PASSWORD, as the sign-in form expects. */
export async function passwordUser(
  h: ChatHarness,
  email: string,
  role: Role = 'user',
): Promise<{ userId: string; email: string }> {
  const user = await h.app
    .get(UsersRepository)
    .insert(h.dataSource.manager, { email, role, passwordHash: await hashPassword(PASSWORD) });
  return { userId: user.id, email };
}

/** Another backend in the harness's pool: an extra simulator serving only the given models. */
export async function addBackend(
  h: ChatHarness,
  name: string,
  url: string,
  models: string[],
): Promise<void> {
  await h.app.get(BackendsRepository).insert(h.dataSource.manager, {
    name,
    baseUrl: url,
    apiKeySealed: null,
    models,
    weight: 1,
    maxConcurrent: 16,
    timeoutMs: 10_000,
    enabled: true,
  });
  await h.app.get(UpstreamPool).reload();
}

/** Names the harness's own simulator `llm-sim`, as the bundled one is named in production. */
export async function nameBackendLlmSim(h: ChatHarness): Promise<void> {
  const repo = h.app.get(BackendsRepository);
  const [first] = await repo.list();
  await repo.update(h.dataSource.manager, first!.id, { name: 'llm-sim' });
  await h.app.get(UpstreamPool).reload();
}

/** Opens the chat page and signs in through the form. */
export async function signIn(page: Page, baseURL: string, email: string): Promise<void> {
  await page.goto(baseURL);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Message', { exact: true }).waitFor();
}

/** The answers on the page, oldest first. */
export function answers(page: Page) {
  return page.locator('li.message.assistant');
}

/**
 * Waits until the conversation ends with a complete, stored answer: the last message is an
 * answer and its feedback buttons (which need the stored message's id) are there.
 */
export async function answerSettled(page: Page): Promise<void> {
  await page
    .locator('li.message.assistant:last-child')
    .getByRole('button', { name: 'Good answer' })
    .waitFor();
}

// Functions run inside the page. The server's type-check has no DOM library, so what they use
// of the page's globals is typed here.
interface PageElement {
  textContent: string | null;
  id: string;
  getAttribute(name: string): string | null;
}
interface PageGlobals {
  document: {
    querySelectorAll(selector: string): ArrayLike<PageElement>;
    activeElement: PageElement | null;
    documentElement: { scrollWidth: number };
  };
  navigator: { clipboard: { readText(): Promise<string> } };
  __xss?: unknown;
}

/** Words in the last answer as rendered right now. */
export function lastAnswerWords(page: Page): Promise<number> {
  return page.evaluate(() => {
    const all = (globalThis as unknown as PageGlobals).document.querySelectorAll(
      'li.message.assistant .markdown',
    );
    const text = all[all.length - 1]?.textContent ?? '';
    return text.split(/\s+/).filter(Boolean).length;
  });
}

/** Waits until the last answer on screen has more than `words` words. */
export async function lastAnswerGrowsPast(page: Page, words: number): Promise<void> {
  await page.waitForFunction((n) => {
    const all = (globalThis as unknown as PageGlobals).document.querySelectorAll(
      'li.message.assistant .markdown',
    );
    const text = all[all.length - 1]?.textContent ?? '';
    return text.split(/\s+/).filter(Boolean).length > n;
  }, words);
}

/** The accessible name (aria-label), else the id or text, of the focused element. */
export function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = (globalThis as unknown as PageGlobals).document.activeElement;
    return el?.getAttribute('aria-label') ?? (el?.id || el?.textContent?.trim() || '');
  });
}

export function clipboardText(page: Page): Promise<string> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).navigator.clipboard.readText());
}

/** The page's full width: wider than the screen means sideways scrolling. */
export function pageWidth(page: Page): Promise<number> {
  return page.evaluate(
    () => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth,
  );
}

/** What an injected script would have set: undefined while the page stays inert. */
export function xssMarker(page: Page): Promise<unknown> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).__xss);
}

/** The admin app (API and console at /admin) on the harness's database, on a loopback port. */
export async function startAdminApp(
  h: ChatHarness,
  port = 0,
  config = h.config,
): Promise<{ app: INestApplication; url: string }> {
  const app = await startApp(AdminAppModule.forRoot(config), config);
  await app.listen(port, '127.0.0.1');
  const bound = (app.getHttpServer().address() as AddressInfo).port;
  return { app, url: `http://127.0.0.1:${bound}` };
}

/** Opens the console's sign-in page and signs in through the form. */
export async function signInConsole(page: Page, adminURL: string, email: string): Promise<void> {
  await page.goto(`${adminURL}/admin/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  // Attached, not visible: on a phone it waits behind the Menu button.
  await page.getByRole('button', { name: 'Sign out', includeHidden: true }).waitFor({
    state: 'attached',
  });
}

/**
 * A write to the admin API from the signed-in page's session (cookie and CSRF header), as a
 * hand-made request would be: the API must refuse what the console merely hides.
 */
export async function consoleWrite(
  page: Page,
  adminURL: string,
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  path: string,
  data?: unknown,
): Promise<{ status: number; code: string | undefined }> {
  const cookies = await page.context().cookies(adminURL);
  const csrf = cookies.find((c) => c.name === 'enclave_csrf')?.value ?? '';
  const res = await page.request.fetch(`${adminURL}${path}`, {
    method,
    headers: { 'x-csrf-token': csrf },
    ...(data === undefined ? {} : { data }),
  });
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
  return { status: res.status(), code: body.error?.code };
}

/** Waits until the first element matching the selector has an attribute containing the text. */
export async function attributeContains(
  page: Page,
  selector: string,
  name: string,
  text: string,
  timeout = 20_000,
): Promise<void> {
  await page.waitForFunction(
    ([sel, attr, want]) =>
      (
        (globalThis as unknown as PageGlobals).document
          .querySelectorAll(sel!)[0]
          ?.getAttribute(attr!) ?? ''
      ).includes(want!),
    [selector, name, text] as const,
    { timeout },
  );
}
