#!/usr/bin/env node
// `node scripts/screenshots.mjs`: saves docs/screenshots/chat.png, the chat page as staff see
// it (and chat-dark.png, chat-de.png in German, chat-phone.png at 390 px, and chat-versions,
// chat-search, chat-settings, chat-templates.png: the conversation features), and
// docs/screenshots/console-*.png (console-dashboard-dark.png in dark mode, console-phone.png at
// 390 px with the menu open), the main pages of the admin console, taken in headless
// Chromium (Debian's /usr/bin/chromium, or ENCLAVE_CHROMIUM). Everything runs in this process on
// a throwaway embedded database: the built chat, admin and audit apps, the simulator as their
// model server, sample conversations, and real traffic for the dashboard.
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIfStale, ensureInstalled, root } from './prepare.mjs';

ensureInstalled();
buildIfStale();

const fromDist = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const { NestFactory } = await import('@nestjs/core');
const { DataSource } = await import('typeorm');
const { chromium } = await import('playwright-core');
const { loadConfig } = await fromDist('libs/config/src/index.js');
const { EmbeddedPostgres } = await fromDist('libs/db/src/index.js');
const { configureHttpApp, createHttpAdapter } = await fromDist('libs/server/src/index.js');
const { hashPassword, UsersRepository } = await fromDist('libs/auth/src/index.js');
const { generateSigningKey } = await fromDist('libs/audit-chain/src/index.js');
const { ChatAppModule } = await fromDist('apps/chat/src/chat.module.js');
const { AdminAppModule } = await fromDist('apps/admin/src/admin.module.js');
const { AuditAppModule } = await fromDist('apps/audit/src/audit.module.js');
const { default: OpenAI } = await import('openai');
const { createLlmSim } = await fromDist('apps/llm-sim/src/simulator.js');

const SHOTS = join(root, 'docs', 'screenshots');
const OUT = join(SHOTS, 'chat.png');
const EMAIL = 'sam.okafor@example.com';
const ADMIN = 'it.admin@example.com';
const PASSWORD = 'screenshot-only-password';
const MODELS = ['llama-3.1-70b-instruct', 'qwen2.5-coder-32b'];

const dataDir = mkdtempSync(join(tmpdir(), 'enclave-screenshots-'));
// A folder of its own (as scripts/test.mjs does): as root the server runs as `postgres`, which
// cannot enter the app's private data dir.
const dbDir = mkdtempSync(join(tmpdir(), 'enclave-screenshots-pg-'));
const db = await EmbeddedPostgres.start({
  dataDir: dbDir,
  port: await freePort(),
  stdio: 'ignore',
});
const sim = createLlmSim({
  models: MODELS,
  ttftMs: 30,
  tokensPerSec: 400,
  replyTokens: 40,
  errorRate: 0,
  errorStatus: 500,
  stallRate: 0,
  stallMs: 0,
  dropRate: 0,
  dropAfterTokens: 0,
});
const simPort = await sim.listen(0);
const config = loadConfig(
  {
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    // Set, so the simulator stands in for a real model server (no simulator banner).
    ENCLAVE_UPSTREAM_URL: `http://127.0.0.1:${simPort}/v1`,
    ENCLAVE_DATA_DIR: dataDir,
  },
  '/nonexistent/enclave.env',
);
const app = await NestFactory.create(
  ChatAppModule.forRoot(config),
  createHttpAdapter('chat', config),
  {
    logger: false,
    bodyParser: false,
  },
);
configureHttpApp(app, config);
await app.listen(0, '127.0.0.1');
const baseURL = `http://127.0.0.1:${app.getHttpServer().address().port}`;
// Started after the chat picture is taken (startAdminAndAudit), closed at the end.
let adminApp;
let auditApp;
let adminURL;
const browser = await chromium.launch({
  executablePath: process.env.ENCLAVE_CHROMIUM ?? '/usr/bin/chromium',
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

try {
  const ds = app.get(DataSource);
  const user = await app
    .get(UsersRepository)
    .insert(ds.manager, { email: EMAIL, role: 'user', passwordHash: await hashPassword(PASSWORD) });
  await seed(ds, user.id);

  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  await page.goto(baseURL);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page
    .getByRole('navigation', { name: 'Conversations' })
    .getByRole('button', { name: /Rotate the audit signing key/ })
    .click();
  const answer = page.locator('li.message.assistant').last();
  await answer.getByRole('button', { name: 'Good answer' }).click();
  await answer.getByText('Thanks for the feedback.').waitFor();
  await answer.getByRole('button', { name: 'Close' }).click();
  await page.getByLabel('Message', { exact: true }).fill('And how do I check an export offline?');
  mkdirSync(join(root, 'docs', 'screenshots'), { recursive: true });
  await page.screenshot({ path: OUT });
  console.log(`saved ${OUT}`);
  // The same page in dark mode (the system's preference), in German, and on a phone.
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'chat-dark.png');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByLabel('Language').selectOption('de');
  await page.getByRole('button', { name: 'Neuer Chat' }).waitFor();
  await shot(page, 'chat-de.png');
  await page.getByLabel('Sprache').selectOption('en');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'chat-phone.png');
  await page.setViewportSize({ width: 1280, height: 800 });
  await conversationFeatureScreenshots(page);
  await context.close();

  await startAdminAndAudit();
  await consoleScreenshots(ds);
} finally {
  await browser.close();
  await auditApp?.close();
  await adminApp?.close();
  await app.close();
  await sim.close();
  await db.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(dbDir, { recursive: true, force: true });
}

/** Sample conversations, as if answered by a model server named gpu-1. */
async function seed(ds, userId) {
  const titles = [
    'Summarise the Q3 supplier audit',
    'Regex for invoice numbers',
    'Draft a reply to the works council',
    'Explain our data-retention policy',
    'Postgres replication lag alert',
  ];
  let minutes = 600;
  const ids = {};
  for (const title of titles) {
    const [row] = await ds.query(
      `INSERT INTO conversations (user_id, title, model, created_at, updated_at)
       VALUES ($1, $2, $3, now() - make_interval(mins => $4), now() - make_interval(mins => $4))
       RETURNING id`,
      [userId, title, MODELS[0], (minutes -= 90)],
    );
    ids[title] = row.id;
  }
  await seedVersions(ds, userId, ids['Draft a reply to the works council']);
  // Published for everyone by an administrator (the console's Presets & templates page).
  await ds.query(
    `INSERT INTO chat_presets (user_id, name, system_prompt, params)
     VALUES (NULL, 'Plain language', $1, '{"temperature": 0.3}')`,
    ['Answer in plain language for staff without a technical background. Keep it short.'],
  );
  for (const [name, content] of [
    ['summary', 'Summarise the following in five bullet points:'],
    ['email', 'Write a short, friendly email to'],
    ['translate-de', 'Translate the following into German, keeping the tone:'],
  ]) {
    await ds.query(`INSERT INTO prompt_templates (user_id, name, content) VALUES (NULL, $1, $2)`, [
      name,
      content,
    ]);
  }
  const [{ id }] = await ds.query(
    `INSERT INTO conversations (user_id, title, model) VALUES ($1, $2, $3) RETURNING id`,
    [userId, 'Rotate the audit signing key', MODELS[0]],
  );
  const question = 'How do I rotate the audit signing key without breaking old exports?';
  const reply = [
    'Old exports stay verifiable: each one carries the public key that signed it, and the',
    'checkpoints before the rotation keep their own signatures.',
    '',
    '1. Create the new key on the audit host:',
    '',
    '```sh',
    'sudo -u enclave enclave audit keygen --out /etc/enclave/audit-signing-2026.pem',
    '```',
    '',
    '2. Point `AUDIT_SIGNING_KEY_FILE` at it and restart **enclave-audit**.',
    '3. Keep the old public key with your exports, so `enclave audit verify` can check them.',
    '',
    'The next checkpoint is signed with the new key; nothing already sealed changes.',
  ].join('\n');
  await ds.query(
    `INSERT INTO messages (conversation_id, user_id, role, content, model, created_at)
     VALUES ($1, $2, 'user', $3, $4, now() - interval '1 minute')`,
    [id, userId, question, MODELS[0]],
  );
  await ds.query(
    `INSERT INTO messages (conversation_id, user_id, role, content, model, upstream, outcome)
     VALUES ($1, $2, 'assistant', $3, $4, 'gpu-1', 'completed')`,
    [id, userId, reply, MODELS[0]],
  );
}

/**
 * The conversation features of the chat page: versions of an edited question, full-text search,
 * a conversation's settings with a published preset, and the prompt templates menu after `/`.
 */
async function conversationFeatureScreenshots(page) {
  const nav = page.getByRole('navigation', { name: 'Conversations' });
  await nav.getByRole('button', { name: /Draft a reply to the works council/ }).click();
  const question = page.locator('li.message.user').last();
  await question.getByText('2/2').waitFor();
  await page.locator('li.message.assistant table').waitFor();
  await shot(page, 'chat-versions.png');

  await nav.getByLabel('Search your conversations').fill('rota');
  await nav.getByRole('list', { name: 'Search results' }).locator('mark').first().waitFor();
  await shot(page, 'chat-search.png');
  await nav.getByLabel('Search your conversations').fill('');

  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Conversation settings' });
  await dialog
    .getByLabel('Preset', { exact: true })
    .selectOption({ label: 'Plain language (published)' });
  await shot(page, 'chat-settings.png');
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  await page.getByLabel('Message', { exact: true }).fill('/');
  await page
    .getByRole('listbox', { name: 'Prompt templates' })
    .getByRole('option')
    .first()
    .waitFor();
  await shot(page, 'chat-templates.png');
  await page.getByLabel('Message', { exact: true }).fill('');
}

/** A question asked, then edited (2/2), whose second answer has a table: versions in the tree. */
async function seedVersions(ds, userId, conversationId) {
  const insert = async (role, content, parentId, minutesAgo) => {
    const [row] = await ds.query(
      `INSERT INTO messages (conversation_id, parent_id, user_id, role, content, model, upstream,
                             outcome, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() - make_interval(mins => $9))
       RETURNING id`,
      [
        conversationId,
        parentId,
        userId,
        role,
        content,
        MODELS[0],
        role === 'assistant' ? 'gpu-1' : null,
        role === 'assistant' ? 'completed' : null,
        minutesAgo,
      ],
    );
    return row.id;
  };
  const first = await insert(
    'user',
    'Draft a reply to the works council about the new on-call rota.',
    conversationId,
    240,
  );
  await insert(
    'assistant',
    'Dear members of the works council,\n\nthank you for your questions about the new on-call rota. …',
    first,
    239,
  );
  const edited = await insert(
    'user',
    'Draft a reply to the works council about the new on-call rota, with the changes as a table.',
    conversationId,
    230,
  );
  await insert(
    'assistant',
    [
      'Dear members of the works council,',
      '',
      'thank you for your questions. The new on-call rota changes three things:',
      '',
      '| | Until March | From April |',
      '| --- | --- | --- |',
      '| Shift length | 7 days | 3–4 days |',
      '| Weekend allowance | flat rate | per call-out and per hour |',
      '| Swaps | via the team lead | in the rota tool, confirmed by both |',
      '',
      'We would be glad to go through it with you at the next meeting.',
    ].join('\n'),
    edited,
    229,
  );
}

/** The admin app (the console) on a loopback port, and the audit app sealing the chain. */
async function startAdminAndAudit() {
  // The key `enclave audit keygen` makes: checkpoints and export manifests are signed with it.
  generateSigningKey(join(dataDir, 'audit', 'signing-key.pem'));
  adminApp = await NestFactory.create(
    AdminAppModule.forRoot(config),
    createHttpAdapter('admin', config),
    {
      logger: false,
      bodyParser: false,
    },
  );
  configureHttpApp(adminApp, config);
  await adminApp.listen(0, '127.0.0.1');
  adminURL = `http://127.0.0.1:${adminApp.getHttpServer().address().port}`;
  auditApp = await NestFactory.create(
    AuditAppModule.forRoot(config),
    createHttpAdapter('audit', config),
    {
      logger: false,
      bodyParser: false,
    },
  );
  await auditApp.init();
}

/** The admin console's main pages, signed in as an administrator, after some real traffic. */
async function consoleScreenshots(ds) {
  const users = app.get(UsersRepository);
  const hash = await hashPassword(PASSWORD);
  await users.insert(ds.manager, { email: ADMIN, role: 'admin', passwordHash: hash });
  for (const [email, role] of [
    ['lena.fischer@example.com', 'auditor'],
    ['raj.patel@example.com', 'user'],
    ['mia.jensen@example.com', 'user'],
  ]) {
    await users.insert(ds.manager, { email, role, passwordHash: hash });
  }
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  await page.goto(`${adminURL}/admin/`);
  await page.getByLabel('Email').fill(ADMIN);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();

  // Through the console, as an administrator would: a key for Raj, a second backend.
  const key = await createKeyThroughConsole(page, 'raj.patel@example.com');
  await pastHour(ds);
  await traffic(key);
  const nav = page.getByRole('navigation', { name: 'Console' });
  await nav.getByRole('link', { name: 'Backends & models' }).click();
  const add = page.getByRole('form', { name: 'Add a backend' });
  await add.getByLabel('Name').fill('gpu-2');
  await add.getByLabel('Base URL').fill(`http://127.0.0.1:${simPort}/v1`);
  await add.getByLabel(/^Models/).fill(MODELS.join(', '));
  await add.getByRole('button', { name: 'Add backend' }).click();
  await page.getByRole('button', { name: 'Test gpu-2' }).click();
  await page.getByText('Test passed').waitFor();

  const shots = [
    ['Dashboard', 'console-dashboard.png', () => page.locator('figure.chart').first().waitFor()],
    ['Users & keys', 'console-users.png', () => page.getByRole('table').waitFor()],
    [
      'Backends & models',
      'console-backends.png',
      () => page.getByText('Healthy', { exact: true }).first().waitFor(),
    ],
    [
      'Audit',
      'console-audit.png',
      async () => {
        const exports = page.getByRole('region', { name: 'Exports' });
        await exports.getByRole('button', { name: 'Create export' }).click();
        await exports.getByText('done', { exact: true }).first().waitFor();
      },
    ],
  ];
  for (const [link, file, ready] of shots) {
    await nav.getByRole('link', { name: link }).click();
    await ready();
    // Let a live page's first refresh land.
    await page.waitForTimeout(500);
    await shot(page, file);
  }
  await nav.getByRole('link', { name: 'Presets & templates' }).click();
  await page
    .getByRole('region', { name: 'Published prompt templates' })
    .getByRole('cell')
    .first()
    .waitFor();
  await shot(page, 'console-presets.png');
  await nav.getByRole('link', { name: 'Dashboard' }).click();
  await page.locator('figure.chart').first().waitFor();
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(500);
  await shot(page, 'console-dashboard-dark.png');
  // On a phone, with the Menu open.
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await shot(page, 'console-phone.png');
  await context.close();
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function shot(page, file) {
  await page.screenshot({ path: join(SHOTS, file) });
  console.log(`saved ${join(SHOTS, file)}`);
}

/**
 * An hour of history for the dashboard, as usage rows (the dashboard reads the usage history,
 * libs/policy): a working day's uneven load, a slow spell, a few failures and cache hits. The
 * last minutes are real requests (traffic()).
 */
async function pastHour(ds) {
  const [{ id: userId }] = await ds.query('SELECT id FROM users WHERE email = $1', [EMAIL]);
  for (let ago = 59; ago >= 1; ago--) {
    const requests = Math.round(14 + 10 * Math.sin(ago / 7) + ((ago * 37) % 9));
    const slow = ago > 20 && ago < 27 ? 2.4 : 1;
    for (let i = 0; i < requests; i++) {
      const ttft = Math.round((60 + ((i * 53 + ago * 17) % 90)) * slow);
      await ds.query(
        `INSERT INTO usage_events (user_id, model, outcome, prompt_tokens, completion_tokens,
                                   latency_ms, ttft_ms, cache_hit, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() - make_interval(mins => $9, secs => $10))`,
        [
          userId,
          MODELS[i % 2],
          (i * 7 + ago) % 61 === 0 ? 'upstream_error' : 'completed',
          180 + ((i * 31) % 400),
          90 + ((i * 17 + ago) % 260),
          ttft + 400 + ((i * 97 + ago * 13) % 900),
          ttft,
          i % 6 === 0,
          ago,
          (i * 3) % 60,
        ],
      );
    }
  }
}

async function createKeyThroughConsole(page, email) {
  await page
    .getByRole('navigation', { name: 'Console' })
    .getByRole('link', { name: 'Users & keys' })
    .click();
  await page.getByRole('link', { name: `API keys of ${email}` }).click();
  const form = page.getByRole('form', { name: 'Create an API key' });
  await form.getByLabel('Key name').fill('notebook');
  await form.getByRole('button', { name: 'Create key' }).click();
  const dialog = page.getByRole('dialog', { name: 'New API key' });
  const key = await dialog.getByLabel('API key').inputValue();
  await dialog.getByRole('button', { name: 'Done' }).click();
  return key;
}

/** A few dozen real requests, some streamed, some repeated (cache hits), for the charts. */
async function traffic(key) {
  const client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey: key, maxRetries: 0 });
  for (let i = 0; i < 30; i++) {
    const request = {
      model: MODELS[i % 2],
      messages: [{ role: 'user', content: `Question ${i % 12}` }],
    };
    if (i % 3 === 0) {
      for await (const _chunk of await client.chat.completions.create({
        ...request,
        stream: true,
      })) {
        // drain
      }
    } else {
      await client.chat.completions.create(request);
    }
  }
}
