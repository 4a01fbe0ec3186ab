import type { INestApplication } from '@nestjs/common';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PromptTemplatesRepository } from '@enclave/conversations';
import { ChatHarness } from '../support/chat-harness.js';
import {
  answers,
  answerSettled,
  launchChromium,
  pageWidth,
  passwordUser,
  signIn,
  signInConsole,
  startAdminApp,
} from '../support/browser.js';

// The conversation features of issue 21 in real headless Chromium, at a desktop width and on a
// 390 px phone: editing a sent message and switching versions, regenerating without losing the
// old answer, full-text search with marked matches, a conversation's settings and presets,
// prompt templates after `/`, and the console section that publishes presets and templates.
// The desktop runs in light mode, the phone in dark mode.

const VIEWPORTS = [
  {
    name: 'desktop',
    viewport: { width: 1280, height: 800 },
    isMobile: false,
    colorScheme: 'light',
    panel: 'rgb(255, 255, 255)',
  },
  {
    name: 'phone',
    viewport: { width: 390, height: 844 },
    isMobile: true,
    colorScheme: 'dark',
    panel: 'rgb(29, 33, 40)',
  },
] as const;

let h: ChatHarness;
let admin: { app: INestApplication; url: string };
let browser: Browser;

beforeAll(async () => {
  h = await ChatHarness.start({ replyTokens: 24 });
  admin = await startAdminApp(h);
  await passwordUser(h, 'root@example.com', 'admin');
  await h.dataSource.transaction((db) =>
    h.app.get(PromptTemplatesRepository).insert(db, {
      owner: null,
      name: 'summary',
      content: 'Summarise the following in five bullet points:',
      createdBy: null,
    }),
  );
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await admin?.app.close();
  await h?.stop();
});

/** The right edge of the widest element inside `selector`, in CSS pixels. */
function widestIn(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const doc = (
      globalThis as unknown as {
        document: {
          querySelectorAll(s: string): ArrayLike<{ getBoundingClientRect(): { right: number } }>;
        };
      }
    ).document;
    return Math.max(
      ...Array.from(doc.querySelectorAll(`${sel}, ${sel} *`), (e) =>
        Math.floor(e.getBoundingClientRect().right),
      ),
    );
  }, selector);
}

describe.each(VIEWPORTS)('conversation features ($name, $colorScheme)', (v) => {
  const { name, viewport, isMobile } = v;
  let context: BrowserContext;
  let page: Page;
  let userId: string;

  beforeAll(async () => {
    const email = `${name}@example.com`;
    userId = (await passwordUser(h, email)).userId;
    context = await browser.newContext({ viewport, isMobile, colorScheme: v.colorScheme });
    page = await context.newPage();
    await signIn(page, h.baseURL, email);
  });
  afterAll(async () => {
    await context?.close();
  });

  function conversationId(): string {
    const m = /\/c\/([0-9a-f-]{36})$/.exec(new URL(page.url()).pathname);
    if (!m) throw new Error(`not on a conversation page: ${page.url()}`);
    return m[1]!;
  }

  async function send(text: string): Promise<void> {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await answerSettled(page);
  }

  const stored = (id: string) =>
    h.dataSource.query(
      'SELECT id, role, content, parent_id FROM messages WHERE conversation_id = $1 ORDER BY created_at, id',
      [id],
    ) as Promise<{ id: string; role: string; content: string; parent_id: string | null }[]>;

  const questions = () => page.locator('li.message.user');

  it('edits a sent message, continues from it, and switches back to the first version', async () => {
    await send('Plan a day in Lisbon');
    const id = conversationId();
    const first = questions().last();
    await first.getByRole('button', { name: 'Edit' }).click();
    await first.getByLabel('Edit your message').fill('Plan a day in Porto');
    await first.getByRole('button', { name: 'Send edited message' }).click();
    await answerSettled(page);

    const edited = questions().last();
    await edited.getByText('Plan a day in Porto').waitFor();
    await edited.getByText('2/2').waitFor();
    const rows = await stored(id);
    expect(rows.map((r) => r.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    // An edited first question names the conversation, as the first one does.
    expect(rows[2]).toMatchObject({ content: 'Plan a day in Porto', parent_id: id });
    expect(rows[0]!.parent_id).toBe(id);

    await edited.getByRole('button', { name: 'Previous version' }).click();
    await questions().last().getByText('Plan a day in Lisbon').waitFor();
    await questions().last().getByText('1/2').waitFor();
    expect((await answers(page).last().locator('.markdown').innerText()).trim()).toBe(
      rows[1]!.content.trim(),
    );
    expect(await pageWidth(page)).toBeLessThanOrEqual(viewport.width);
  });

  it('regenerates an answer and keeps the previous one as a version', async () => {
    const id = conversationId();
    const before = (await stored(id)).length;
    const oldText = (await answers(page).last().locator('.markdown').innerText()).trim();
    await answers(page).last().getByRole('button', { name: 'Regenerate' }).click();
    await answers(page).last().getByText('2/2').waitFor();
    await answerSettled(page);
    expect(await stored(id)).toHaveLength(before + 1);

    await answers(page).last().getByRole('button', { name: 'Previous version' }).click();
    await answers(page).last().getByText('1/2').waitFor();
    expect((await answers(page).last().locator('.markdown').innerText()).trim()).toBe(oldText);
    // The choice is stored: a reload shows the same version.
    await page.reload();
    await answers(page).last().getByText('1/2').waitFor();
  });

  it('searches the words of messages and marks the matches', async () => {
    const id = conversationId();
    if (isMobile) await page.getByRole('button', { name: 'Conversations' }).click();
    const nav = page.getByRole('navigation', { name: 'Conversations' });
    await nav.getByLabel('Search your conversations').fill('porto');
    const results = nav.getByRole('list', { name: 'Search results' });
    const hit = results.getByRole('button', { name: /Porto/ });
    await hit.waitFor();
    expect(await hit.locator('mark').allTextContents()).toEqual(['Porto']);
    await nav.getByLabel('Search your conversations').fill('no such words anywhere');
    await nav.getByText('No conversation matches.').waitFor();
    await nav.getByLabel('Search your conversations').fill('porto');
    await results.getByRole('button', { name: /Porto/ }).click();
    await page.waitForURL(`**/c/${id}`);
    await answerSettled(page);
  });

  it('sends a conversation system prompt and parameters, and saves them as a preset', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Conversation settings' });
    // The panel takes the page's colours (dark on the dark phone).
    expect(
      await dialog.evaluate(
        (d) =>
          (
            globalThis as unknown as {
              getComputedStyle(e: unknown): { backgroundColor: string };
            }
          ).getComputedStyle(d).backgroundColor,
      ),
    ).toBe(v.panel);
    await dialog.getByLabel('System prompt').fill('Answer like a ship captain.');
    await dialog.getByLabel('Max tokens').fill('5');
    await dialog.getByLabel('Save these as a preset').fill(`Captain ${name}`);
    await dialog.getByRole('button', { name: 'Save preset' }).click();
    await dialog.getByText(`Saved as preset “Captain ${name}”.`).waitFor();
    await dialog.getByRole('button', { name: 'Save settings' }).click();
    await dialog.waitFor({ state: 'hidden' });

    await send('Describe the harbour');
    const id = conversationId();
    const [conv] = await h.dataSource.query(
      'SELECT system_prompt, params FROM conversations WHERE id = $1',
      [id],
    );
    expect(conv).toEqual({
      system_prompt: 'Answer like a ship captain.',
      params: { max_tokens: 5 },
    });
    const [last] = await h.dataSource.query(
      `SELECT completion_tokens FROM messages WHERE conversation_id = $1 AND role = 'assistant'
        ORDER BY created_at DESC LIMIT 1`,
      [id],
    );
    expect(last.completion_tokens).toBe(5);
    expect(
      await h.count('SELECT 1 FROM chat_presets WHERE user_id = $1 AND name = $2', [
        userId,
        `Captain ${name}`,
      ]),
    ).toBe(1);

    // A new chat takes the preset in its settings.
    if (isMobile) await page.getByRole('button', { name: 'Conversations' }).click();
    await page.getByRole('button', { name: 'New chat' }).click();
    await page.getByRole('button', { name: 'Settings' }).click();
    await dialog.getByLabel('Preset', { exact: true }).selectOption({ label: `Captain ${name}` });
    expect(await dialog.getByLabel('System prompt').inputValue()).toBe(
      'Answer like a ship captain.',
    );
    expect(await dialog.getByLabel('Max tokens').inputValue()).toBe('5');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  it('offers prompt templates after / and inserts the chosen one', async () => {
    const box = page.getByLabel('Message', { exact: true });
    await box.fill('/');
    const menu = page.getByRole('listbox', { name: 'Prompt templates' });
    await menu.getByRole('option', { name: /\/summary/ }).waitFor();
    await box.press('s');
    await box.press('Enter');
    expect(await box.inputValue()).toBe('Summarise the following in five bullet points:');
    await menu.waitFor({ state: 'hidden' });

    // A template of one's own, added from the list.
    await box.fill('/');
    await page.getByRole('button', { name: 'Manage templates' }).click();
    const dialog = page.getByRole('dialog', { name: 'Prompt templates' });
    await dialog.getByLabel('Name (what you type after /)').fill(`greet-${name}`);
    await dialog.getByLabel('Text').fill('Write a warm welcome for');
    await dialog.getByRole('button', { name: 'Add template' }).click();
    await dialog.getByText(`/greet-${name}`).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await box.fill('/gr');
    await menu.getByRole('option', { name: new RegExp(`/greet-${name}`) }).click();
    expect(await box.inputValue()).toBe('Write a warm welcome for');
    expect(await pageWidth(page)).toBeLessThanOrEqual(viewport.width);
  });
});

describe.each(VIEWPORTS)(
  'console: presets and templates ($name)',
  ({ name, viewport, isMobile }) => {
    it('publishes a preset and a template that chat users then see, and deletes them', async () => {
      const context = await browser.newContext({ viewport, isMobile });
      try {
        const page = await context.newPage();
        await signInConsole(page, admin.url, 'root@example.com');
        await page.goto(`${admin.url}/admin/presets`);
        const presetForm = page.getByRole('form', { name: 'Publish a preset' });
        await presetForm.getByLabel('Name').fill(`Formal ${name}`);
        await presetForm.getByLabel('System prompt').fill('Write formally.');
        await presetForm.getByLabel('Temperature').fill('0.3');
        await presetForm.getByRole('button', { name: 'Publish preset' }).click();
        const presets = page.getByRole('region', { name: 'Published presets' });
        await presets.getByRole('cell', { name: `Formal ${name}` }).waitFor();

        const templateForm = page.getByRole('form', { name: 'Publish a prompt template' });
        await templateForm.getByLabel('Name (typed after /)').fill(`memo-${name}`);
        await templateForm.getByLabel('Text').fill('Draft a memo about');
        await templateForm.getByRole('button', { name: 'Publish template' }).click();
        const templates = page.getByRole('region', { name: 'Published prompt templates' });
        await templates.getByRole('cell', { name: `/memo-${name}` }).waitFor();

        const [preset] = await h.dataSource.query(
          'SELECT user_id, system_prompt, params FROM chat_presets WHERE name = $1',
          [`Formal ${name}`],
        );
        expect(preset).toEqual({
          user_id: null,
          system_prompt: 'Write formally.',
          params: { temperature: 0.3 },
        });
        expect(
          await h.count(
            `SELECT 1 FROM audit_events WHERE action IN ('admin.preset.published', 'admin.prompt_template.published')
              AND payload->>'name' IN ($1, $2)`,
            [`Formal ${name}`, `memo-${name}`],
          ),
        ).toBe(2);

        await presets
          .getByRole('row', { name: new RegExp(`Formal ${name}`) })
          .getByRole('button', { name: 'Delete' })
          .click();
        await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
        await presets.getByRole('cell', { name: `Formal ${name}` }).waitFor({ state: 'detached' });
        expect(
          await h.count('SELECT 1 FROM chat_presets WHERE name = $1', [`Formal ${name}`]),
        ).toBe(0);
        // The section fits the phone (the console's own top bar is not this page's).
        expect(await widestIn(page, 'main.content')).toBeLessThanOrEqual(viewport.width);
      } finally {
        await context.close();
      }
    });
  },
);
