#!/usr/bin/env node
// `node scripts/screenshots.mjs`: saves docs/screenshots/chat.png, the chat page as staff see
// it, taken in headless Chromium (Debian's /usr/bin/chromium, or ENCLAVE_CHROMIUM). Everything
// runs in this process on a throwaway embedded database: the built chat app, the simulator as
// its model server, and a few sample conversations.
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
const { startEmbeddedPostgres } = await fromDist('libs/db/src/index.js');
const { configureHttpApp } = await fromDist('libs/server/src/index.js');
const { hashPassword, UsersRepository } = await fromDist('libs/auth/src/index.js');
const { ChatAppModule } = await fromDist('apps/chat/src/chat.module.js');
const { createLlmSim } = await fromDist('apps/llm-sim/src/simulator.js');

const OUT = join(root, 'docs', 'screenshots', 'chat.png');
const EMAIL = 'sam.okafor@example.com';
const PASSWORD = 'screenshot-only-password';
const MODELS = ['llama-3.1-70b-instruct', 'qwen2.5-coder-32b'];

const dataDir = mkdtempSync(join(tmpdir(), 'enclave-screenshots-'));
const db = await startEmbeddedPostgres({ dataDir: 'memory://', port: 0 });
const sim = createLlmSim({
  models: MODELS,
  ttftMs: 0,
  tokensPerSec: 0,
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
const app = await NestFactory.create(ChatAppModule.forRoot(config), {
  logger: false,
  bodyParser: false,
});
configureHttpApp(app, config);
await app.listen(0, '127.0.0.1');
const baseURL = `http://127.0.0.1:${app.getHttpServer().address().port}`;
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
} finally {
  await browser.close();
  await app.close();
  await sim.close();
  await db.stop();
  rmSync(dataDir, { recursive: true, force: true });
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
  for (const title of titles) {
    await ds.query(
      `INSERT INTO conversations (user_id, title, model, created_at, updated_at)
       VALUES ($1, $2, $3, now() - make_interval(mins => $4), now() - make_interval(mins => $4))`,
      [userId, title, MODELS[0], (minutes -= 90)],
    );
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
