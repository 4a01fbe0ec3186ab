import type { INestApplication } from '@nestjs/common';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ChatHarness } from '../support/chat-harness.js';
import { PASSWORD } from '../support/auth.js';
import {
  launchChromium,
  pageWidth,
  passwordUser,
  signInConsole,
  startAdminApp,
} from '../support/browser.js';

// How the console looks and reads (issue 21), in real headless Chromium: light and dark at
// desktop and phone widths, the phone's folded menu, German, and the two console bugs: the
// admin port's `/` answered raw JSON, and "open Enclave chat" led there instead of to the chat.

const LIGHT_BG = 'rgb(246, 247, 249)';
const DARK_BG = 'rgb(20, 23, 28)';
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

describe('admin console: look, languages and links', () => {
  let h: ChatHarness;
  let admin: { app: INestApplication; url: string };
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    h = await ChatHarness.start();
    // As under `npm start`: the chat app on its own port of the same host.
    const chatPort = Number(new URL(h.baseURL).port);
    admin = await startAdminApp(h, 0, {
      ...h.config,
      ports: { ...h.config.ports, chat: chatPort },
    });
    await passwordUser(h, 'root@example.com', 'admin');
    await passwordUser(h, 'staff@example.com', 'user');
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await admin?.app.close();
    await h?.stop();
  });

  async function open(
    options: { viewport?: typeof DESKTOP; colorScheme?: 'light' | 'dark'; locale?: string } = {},
  ): Promise<Page> {
    const context = await browser.newContext({
      viewport: options.viewport ?? DESKTOP,
      isMobile: options.viewport === PHONE,
      colorScheme: options.colorScheme ?? 'light',
      locale: options.locale ?? 'en-US',
    });
    contexts.push(context);
    return context.newPage();
  }

  const background = (page: Page) =>
    page.evaluate('getComputedStyle(document.documentElement).backgroundColor');

  it('leads from the admin port’s / to the console, not to JSON', async () => {
    const page = await open();
    const res = await page.goto(admin.url);
    expect(new URL(page.url()).pathname).toBe('/admin/');
    expect(res!.headers()['content-type']).toContain('text/html');
    await page.getByRole('heading', { name: 'Enclave console' }).waitFor();
  });

  it('links "open Enclave chat" to the chat app, for staff and for admins', async () => {
    const page = await open();
    await page.goto(`${admin.url}/admin/`);
    await page.getByLabel('Email').fill('staff@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'No console access' }).waitFor();
    await linkTo(page, 'Enclave chat', `${h.baseURL}/`);
    await page.getByRole('link', { name: 'Enclave chat', exact: true }).click();
    // Cookies do not depend on the port: the console's session signs them in to the chat too.
    await page.getByLabel('Message', { exact: true }).waitFor();
    expect(new URL(page.url()).origin).toBe(h.baseURL);

    const adminPage = await open();
    await signInConsole(adminPage, admin.url, 'root@example.com');
    await linkTo(adminPage, 'Open Enclave chat', `${h.baseURL}/`);
  });

  describe.each([
    ['desktop', 'light', DESKTOP],
    ['desktop', 'dark', DESKTOP],
    ['phone', 'light', PHONE],
    ['phone', 'dark', PHONE],
  ] as const)('at %s width in %s mode', (name, scheme, viewport) => {
    it('follows the system colours and fits the screen', async () => {
      const page = await open({ viewport, colorScheme: scheme });
      await signInConsole(page, admin.url, 'root@example.com');
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      expect(await background(page)).toBe(scheme === 'dark' ? DARK_BG : LIGHT_BG);
      expect(await pageWidth(page)).toBeLessThanOrEqual(viewport.width);
    });
  });

  it('folds the account controls and the sections behind Menu on a phone', async () => {
    const email = 'a.very-long-administrator-address@department.example.com';
    await passwordUser(h, email, 'admin');
    const page = await open({ viewport: PHONE });
    await signInConsole(page, admin.url, email);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const menu = page.getByRole('button', { name: 'Menu' });
    const nav = page.getByRole('navigation', { name: 'Console' });
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    expect(await nav.isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(false);
    // One line of top bar, so the page starts on the first screen.
    const bar = await page.getByRole('banner').boundingBox();
    expect(bar!.height).toBeLessThan(60);

    await menu.click();
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    await page.getByText(email).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(await pageWidth(page)).toBeLessThanOrEqual(PHONE.width);
    await nav.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Audit', exact: true }).first().waitFor();
    expect(await nav.isVisible()).toBe(false);
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    // Escape folds it too, and the focus is back on Menu.
    await menu.click();
    await nav.waitFor();
    await page.keyboard.press('Escape');
    await nav.waitFor({ state: 'hidden' });
    expect(await menu.evaluate((b) => b === b.ownerDocument.activeElement)).toBe(true);

    // On a desktop there is nothing to fold.
    const wide = await open();
    await signInConsole(wide, admin.url, email);
    expect(await wide.getByRole('button', { name: 'Menu' }).isVisible()).toBe(false);
    await wide.getByRole('button', { name: 'Sign out' }).waitFor();
    await wide.getByRole('navigation', { name: 'Console' }).waitFor();
  });

  it('switches to dark and to German on request, and remembers both', async () => {
    const page = await open();
    await signInConsole(page, admin.url, 'root@example.com');
    await page.getByLabel('Colour scheme').selectOption('dark');
    expect(await background(page)).toBe(DARK_BG);
    await page.getByLabel('Language').selectOption('de');
    const nav = page.getByRole('navigation', { name: 'Konsole' });
    await nav.getByRole('link', { name: 'Benutzer & Schlüssel' }).waitFor();
    await page.reload();
    await nav.getByRole('link', { name: 'Übersicht' }).waitFor();
    expect(await background(page)).toBe(DARK_BG);
    expect(await page.evaluate('document.documentElement.lang')).toBe('de');
    expect(await page.title()).toBe('Übersicht · Enclave-Konsole');
    // The presets page reads German too, down to its form labels.
    await nav.getByRole('link', { name: 'Voreinstellungen & Vorlagen' }).click();
    await page.getByRole('heading', { name: 'Voreinstellungen und Prompt-Vorlagen' }).waitFor();
    const form = page.getByRole('form', { name: 'Eine Voreinstellung veröffentlichen' });
    await form.getByLabel('Temperatur').waitFor();
    await form.getByRole('button', { name: 'Voreinstellung veröffentlichen' }).waitFor();
    await page.getByRole('region', { name: 'Veröffentlichte Prompt-Vorlagen' }).waitFor();
  });
});

/** Waits for the named link to point at `href` (the console learns the chat URL after render). */
async function linkTo(page: Page, name: string, href: string): Promise<void> {
  await page
    .getByRole('link', { name, exact: true })
    .and(page.locator(`[href="${href}"]`))
    .waitFor();
}
