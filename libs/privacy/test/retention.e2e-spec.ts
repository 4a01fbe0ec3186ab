import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataSource } from 'typeorm';
import { AuditLog } from '@enclave/audit';
import {
  LegalHolds,
  type SigningKey,
  verifyDatabaseChain,
  verifyExport,
  writeExport,
} from '@enclave/audit-chain';
import { UsersRepository } from '@enclave/auth';
import {
  dataSourceOptions,
  MIGRATIONS,
  monthlyPartitions,
  runMigrations,
  sqlOf,
} from '@enclave/db';
import { applyRetention, eraseUser, type RetentionRules } from '@enclave/privacy';
import { testConfig } from '../../../test/support/config.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';
import { migratedDatabase, sealAll, tempKey } from '../../audit-chain/test/chain-fixture.js';

const CLI = fileURLToPath(new URL('../../../dist/apps/cli/src/main.js', import.meta.url));
const PARTITIONING = MIGRATIONS.findIndex((M) => new M().name === 'AuditRetention1764720000000');
const ADMIN = { type: 'user' as const, id: null, label: 'admin@example.com' };

let key: SigningKey;
let keyPath: string;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(() => {
  ({ key, path: keyPath } = tempKey());
});

afterAll(async () => {
  for (const done of cleanup.reverse()) await done();
});

async function freshDatabase(): Promise<{ db: TestDatabase; ds: DataSource }> {
  const made = await migratedDatabase();
  cleanup.push(
    () => made.db.drop(),
    () => made.ds.destroy(),
  );
  return made;
}

async function addUser(ds: DataSource, email: string): Promise<string> {
  const [{ id }] = await ds.query(
    `INSERT INTO users (email, role) VALUES ($1, 'user') RETURNING id`,
    [email],
  );
  return id;
}

/** Appends an event and moves it to `at` (before it is sealed: the chain seals what is stored). */
async function appendAt(
  ds: DataSource,
  at: string,
  e: { actorId: string | null; action: string; payload?: Record<string, unknown> },
): Promise<void> {
  await ds.transaction(async (m) => {
    await new AuditLog().append(m, {
      actor: { type: e.actorId ? 'user' : 'system', id: e.actorId, label: 'x' },
      action: e.action,
      target: null,
      outcome: 'success',
      payload: e.payload ?? { at },
    });
    await m.query(
      `UPDATE audit_events SET occurred_at = $1 WHERE id = (SELECT max(event_id) FROM audit_seal_queue)`,
      [at],
    );
  });
}

async function verified(ds: DataSource) {
  const v = await verifyDatabaseChain(sqlOf(ds), key.publicKey);
  expect(v.problems).toEqual([]);
  expect(v.ok).toBe(true);
  return v;
}

async function exportAndVerify(ds: DataSource, name: string) {
  const dir = mkdtempSync(join(tmpdir(), 'enclave-retention-'));
  const { manifestPath } = await writeExport({
    sql: sqlOf(ds),
    dir,
    name,
    format: 'jsonl',
    filter: {},
    signingKey: key,
    createdBy: 'test',
  });
  const v = await verifyExport(manifestPath, key.publicKey);
  expect(v.problems).toEqual([]);
  expect(v.ok).toBe(true);
  const lines = readFileSync(join(dir, `${name}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return { verdict: v, lines };
}

/** Pruned positions after `pos`: an export covers the chain from a checkpoint before its first event. */
async function prunedAfter(ds: DataSource, pos: number): Promise<number> {
  const [{ n }] = await ds.query(
    'SELECT count(*)::int AS n FROM audit_chain WHERE pruned_at IS NOT NULL AND pos > $1',
    [pos],
  );
  return n;
}

function enclave(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH!, ENCLAVE_CONFIG: '/dev/null', ...env },
    cwd: tmpdir(),
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the partitioning migration', () => {
  it('moves existing events into monthly partitions intact: ids, hashes and the sealed chain', async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    const before = new DataSource({
      ...dataSourceOptions(testConfig({ DATABASE_URL: db.url }), 'test'),
      migrations: MIGRATIONS.slice(0, PARTITIONING),
    });
    await before.initialize();
    await runMigrations(before);
    for (const at of [
      '2025-03-04T05:06:07.123456Z',
      '2025-03-30T00:00:00Z',
      '2025-07-01T00:00:00Z',
    ])
      await appendAt(before, at, { actorId: null, action: 'test.event' });
    await appendAt(before, new Date().toISOString(), { actorId: null, action: 'test.event' });
    await sealAll(db.url, key);
    const carol = await addUser(before, 'carol@example.com');
    const [{ id: conv }] = await before.query(
      `INSERT INTO conversations (user_id, title) VALUES ($1, 'old chat') RETURNING id`,
      [carol],
    );
    const [{ id: answer }] = await before
      .query(
        `INSERT INTO messages (conversation_id, user_id, role, content, created_at)
       VALUES ($1, $2, 'user', 'q', '2025-03-05T00:00:00Z'),
              ($1, $2, 'assistant', 'a', '2025-03-05T00:00:01Z') RETURNING id`,
        [conv, carol],
      )
      .then((rows: { id: string }[]) => rows.slice(-1));
    await before.query(
      `INSERT INTO feedback (message_id, user_id, rating, comment) VALUES ($1, $2, 'up', 'nice')`,
      [answer, carol],
    );
    const messageDump = `SELECT m.id, m.role, m.content, m.created_at, f.rating, f.comment
                           FROM messages m LEFT JOIN feedback f ON f.message_id = m.id ORDER BY m.created_at`;
    const messagesBefore = await before.query(messageDump);
    const dump = `SELECT id::text, occurred_at, action, payload, encode(payload_salt, 'hex') AS salt,
                         encode(payload_hash, 'hex') AS hash FROM audit_events ORDER BY id`;
    const rowsBefore = await before.query(dump);
    const [{ last }] = await before.query('SELECT max(id)::int AS last FROM audit_events');
    await before.destroy();

    const ds = new DataSource(dataSourceOptions(testConfig({ DATABASE_URL: db.url }), 'test'));
    await ds.initialize();
    cleanup.push(() => ds.destroy());
    expect(await runMigrations(ds)).toContain('AuditRetention1764720000000');
    expect(await ds.query(dump)).toEqual(rowsBefore);
    expect(await ds.query(messageDump)).toEqual(messagesBefore);
    const [{ n: inMarch }] = await ds.query('SELECT count(*)::int AS n FROM messages_p202503');
    expect(inMarch).toBe(2);
    // Feedback still follows its message: new feedback names only the message id.
    await ds.query(`INSERT INTO feedback (message_id, user_id, rating) VALUES ($1, $2, 'down')`, [
      (await ds.query(`SELECT id FROM messages WHERE role = 'user'`))[0].id,
      carol,
    ]);
    await ds.query('DELETE FROM conversations WHERE id = $1', [conv]);
    const [{ n: left }] = await ds.query(
      'SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM feedback) AS n',
    );
    expect(Number(left)).toBe(0);
    const [{ kind }] = await ds.query(
      `SELECT relkind AS kind FROM pg_class WHERE relname = 'audit_events'`,
    );
    expect(kind).toBe('p');
    const names = (await monthlyPartitions(sqlOf(ds), 'audit_events')).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['audit_events_p202503', 'audit_events_p202507']));
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM audit_events_p202503`);
    expect(n).toBe(2);
    await verified(ds);
    // New events continue the ids and the chain.
    await appendAt(ds, new Date().toISOString(), { actorId: null, action: 'test.after' });
    await sealAll(db.url, key);
    const [{ id }] = await ds.query(
      `SELECT id::int AS id FROM audit_events WHERE action = 'test.after'`,
    );
    expect(id).toBeGreaterThan(last);
    expect((await verified(ds)).events).toBe(5);
  });
});

describe('retention', () => {
  const NOW = new Date('2026-06-15T12:00:00Z');
  const RULES: RetentionRules = {
    audit: { default: 90, byKind: { auth: 30 } },
    messageDays: 60,
  };

  it('drops expired months whole, deletes expired rows elsewhere, keeps held events; the chain and exports verify', async () => {
    const { db, ds } = await freshDatabase();
    const alice = await addUser(ds, 'alice@example.com');
    const bob = await addUser(ds, 'bob@example.com');
    for (const day of ['03', '05', '07', '09'])
      await appendAt(ds, `2026-01-${day}T10:00:00Z`, { actorId: bob, action: 'chat.completion' });
    for (const day of ['04', '06'])
      await appendAt(ds, `2026-01-${day}T10:00:00Z`, { actorId: alice, action: 'chat.completion' });
    for (const day of ['02', '12', '27'])
      await appendAt(ds, `2026-02-${day}T10:00:00Z`, { actorId: bob, action: 'chat.completion' });
    // auth.* is kept 30 days: these go, the completions of the same month stay.
    for (const day of ['01', '02'])
      await appendAt(ds, `2026-05-${day}T10:00:00Z`, {
        actorId: bob,
        action: 'auth.login.succeeded',
      });
    for (const day of ['20', '21'])
      await appendAt(ds, `2026-05-${day}T10:00:00Z`, { actorId: bob, action: 'chat.completion' });
    const holds = new LegalHolds(new UsersRepository(ds));
    const hold = await ds.transaction((m) =>
      holds.create(m, { userId: alice, from: null, to: null, reason: 'litigation 42' }, ADMIN),
    );
    // Messages: an old one of each user, a recent one of bob.
    for (const [user, at] of [
      [alice, '2026-01-05T00:00:00Z'],
      [bob, '2026-01-05T00:00:00Z'],
      [bob, '2026-06-01T00:00:00Z'],
    ])
      await ds.query(
        `INSERT INTO messages (user_id, role, content, created_at) VALUES ($1, 'user', 'hi', $2)`,
        [user, at],
      );
    await sealAll(db.url, key);
    const total = 4 + 2 + 3 + 2 + 2 + 1;

    const first = await applyRetention(ds, RULES, NOW);
    // The months were caught by the default partition; maintenance gave them their own.
    expect(first.partitionsCreated).toEqual(
      expect.arrayContaining([
        'audit_events_p202606',
        'audit_events_p202607',
        'audit_events_p202608',
        'audit_events_p202601',
        'audit_events_p202602',
      ]),
    );
    expect(first.partitionsDropped).toEqual(['audit_events_p202602']);
    expect(first.auditEventsPruned).toBe(4 + 3 + 2);
    expect(first.auditEventsHeld).toBe(2);
    expect(first.messagesDeleted).toBe(1);
    expect(first.messagesHeld).toBe(1);
    const left = await ds.query(
      `SELECT actor_id AS "actorId", action FROM audit_events WHERE occurred_at < '2026-06-01' ORDER BY occurred_at`,
    );
    expect(left).toEqual([
      { actorId: alice, action: 'chat.completion' },
      { actorId: alice, action: 'chat.completion' },
      { actorId: bob, action: 'chat.completion' },
      { actorId: bob, action: 'chat.completion' },
    ]);
    const [{ n: messages }] = await ds.query('SELECT count(*)::int AS n FROM messages');
    expect(messages).toBe(2);

    await sealAll(db.url, key);
    const v = await verified(ds);
    expect(v.pruned).toBe(9);
    expect(v.positions).toBe(total + 1);
    expect(v.prunedRange).toEqual(first.prunedRange);
    const exported = await exportAndVerify(ds, 'after-retention');
    expect(exported.verdict.pruned).toBe(
      await prunedAfter(ds, exported.verdict.manifest!.chain.fromPos),
    );
    expect(exported.verdict.pruned).toBeGreaterThan(0);
    const applied = exported.lines.find((l) => l.action === 'audit.retention.applied');
    expect(applied.payload).toMatchObject({
      auditEventsPruned: 9,
      auditEventsHeld: 2,
      partitionsDropped: ['audit_events_p202602'],
      messagesDeleted: 1,
    });

    // Released, the held month goes too, now as a whole partition.
    await ds.transaction((m) => holds.release(m, hold.id, ADMIN));
    const second = await applyRetention(ds, RULES, NOW);
    expect(second.partitionsDropped).toEqual(['audit_events_p202601']);
    expect(second.auditEventsPruned).toBe(2);
    expect(second.messagesDeleted).toBe(1);
    await sealAll(db.url, key);
    expect((await verified(ds)).pruned).toBe(11);
    const again = await exportAndVerify(ds, 'after-release');
    expect(again.verdict.pruned).toBe(await prunedAfter(ds, again.verdict.manifest!.chain.fromPos));
    const actions = (
      await ds.query(`SELECT action FROM audit_events WHERE action LIKE 'audit.%' ORDER BY id`)
    ).map((r: { action: string }) => r.action);
    expect(actions).toEqual([
      'audit.hold.created',
      'audit.retention.applied',
      'audit.hold.released',
      'audit.retention.applied',
    ]);
  });

  it('drops whole months of messages (with their feedback) and empty conversations unless a legal hold covers one', async () => {
    const { ds } = await freshDatabase();
    const alice = await addUser(ds, 'alice@example.com');
    const bob = await addUser(ds, 'bob@example.com');
    const [{ id: bobMessage }] = await ds.query(
      `INSERT INTO messages (user_id, role, content) VALUES ($1, 'assistant', 'bob') RETURNING id`,
      [bob],
    );
    await ds.query(`INSERT INTO feedback (message_id, user_id, rating) VALUES ($1, $2, 'up')`, [
      bobMessage,
      bob,
    ]);
    await ds.query(`INSERT INTO messages (user_id, role, content) VALUES ($1, 'user', 'alice')`, [
      alice,
    ]);
    // Empty conversations: each goes once past retention unless a hold covers its owner.
    await ds.query(`INSERT INTO conversations (user_id, title) VALUES ($1, 'a'), ($2, 'b')`, [
      alice,
      bob,
    ]);
    const conversationsOf = async () =>
      (await ds.query('SELECT user_id AS u FROM conversations')).map((r: { u: string }) => r.u);
    const holds = new LegalHolds(new UsersRepository(ds));
    const hold = await ds.transaction((m) =>
      holds.create(m, { userId: alice, from: null, to: null, reason: 'case 9 hold' }, ADMIN),
    );
    // Far ahead: this month's messages are all past 30 days.
    const later = new Date(Date.now() + 200 * 86_400_000);
    const rules = { audit: { default: null, byKind: {} }, messageDays: 30 };
    const thisMonth = `messages_p${yyyymm(new Date())}`;

    const first = await applyRetention(ds, rules, later);
    expect(first.partitionsDropped).not.toContain(thisMonth);
    expect(first).toMatchObject({ messagesDeleted: 1, messagesHeld: 1, conversationsDeleted: 1 });
    expect(await conversationsOf()).toEqual([alice]);
    const [{ n: feedback }] = await ds.query('SELECT count(*)::int AS n FROM feedback');
    expect(feedback).toBe(0);

    await ds.transaction((m) => holds.release(m, hold.id, ADMIN));
    const second = await applyRetention(ds, rules, later);
    expect(second.partitionsDropped).toContain(thisMonth);
    expect(second.messagesDeleted).toBe(1);
    expect(second.conversationsDeleted).toBe(1);
    expect(await conversationsOf()).toEqual([]);
    const [{ n: messages }] = await ds.query('SELECT count(*)::int AS n FROM messages');
    expect(messages).toBe(0);
    // New messages still have a home (the default partition, or one made ahead).
    await ds.query(`INSERT INTO messages (user_id, role, content) VALUES ($1, 'user', 'x')`, [bob]);
  });

  it('`enclave audit retention` applies the stored policies now', async () => {
    const { db, ds } = await freshDatabase();
    await ds.query(`INSERT INTO enclave_settings (key, value) VALUES ('policies', $1::jsonb)`, [
      JSON.stringify({ auditRetentionDays: { default: 30, byKind: {} } }),
    ]);
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await appendAt(ds, old, { actorId: null, action: 'test.old' });
    await appendAt(ds, new Date().toISOString(), { actorId: null, action: 'test.new' });
    await sealAll(db.url, key);
    const r = enclave(['audit', 'retention', '--json'], { DATABASE_URL: db.url });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ran: true, auditEventsPruned: 1 });
    const actions = await ds.query(`SELECT action FROM audit_events ORDER BY id`);
    expect(actions).toEqual([{ action: 'test.new' }, { action: 'audit.retention.applied' }]);
    await sealAll(db.url, key);
    expect((await verified(ds)).pruned).toBe(1);
  });

  it('never removes an event that is not sealed yet, and does nothing without rules', async () => {
    const { ds } = await freshDatabase();
    await appendAt(ds, '2026-01-03T10:00:00Z', { actorId: null, action: 'chat.completion' });
    expect(
      await applyRetention(ds, { audit: { default: null, byKind: {} }, messageDays: null }, NOW),
    ).toMatchObject({ ran: true, auditEventsPruned: 0, partitionsDropped: [] });
    const r = await applyRetention(ds, RULES, NOW);
    expect(r).toMatchObject({ auditEventsPruned: 0, partitionsDropped: [] });
    const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM audit_events');
    expect(n).toBe(1);
  });

  it('deletes usage history past its own retention, keeps what a hold covers, and audits it', async () => {
    const { ds } = await freshDatabase();
    const alice = await addUser(ds, 'alice@example.com');
    const bob = await addUser(ds, 'bob@example.com');
    const holds = new LegalHolds(new UsersRepository(ds));
    await ds.transaction((m) =>
      holds.create(m, { userId: alice, from: null, to: null, reason: 'audit of costs' }, ADMIN),
    );
    // Requests and daily totals: old ones of each user, a recent one of bob.
    for (const [user, at] of [
      [alice, '2026-03-01T12:00:00Z'],
      [bob, '2026-03-01T12:00:00Z'],
      [bob, '2026-03-02T12:00:00Z'],
      [bob, '2026-06-10T12:00:00Z'],
    ]) {
      await ds.query(
        `INSERT INTO usage_events (at, user_id, model, outcome, prompt_tokens) VALUES ($2, $1, 'm', 'completed', 7)`,
        [user, at],
      );
      await ds.query(
        `INSERT INTO usage_daily (day, user_id, model, requests) VALUES ($2::timestamptz::date, $1, 'm', 1)`,
        [user, at],
      );
    }
    // Messages are kept for good here: the usage rule is a separate one.
    await ds.query(
      `INSERT INTO messages (user_id, role, content, created_at) VALUES ($1, 'user', 'hi', '2026-03-01T12:00:00Z')`,
      [bob],
    );

    const kept = { audit: { default: null, byKind: {} }, messageDays: null, usageDays: null };
    expect(await applyRetention(ds, kept, NOW)).toMatchObject({ usageEventsDeleted: 0 });

    // 90 days before NOW (2026-06-15) is 2026-03-17: March's rows go, except alice's (held).
    const r = await applyRetention(ds, { ...kept, usageDays: 90 }, NOW);
    expect(r).toMatchObject({ usageEventsDeleted: 2, usageDaysDeleted: 2, usageHeld: 2 });
    const left = await ds.query(
      `SELECT u.user_id = $1 AS alice, u.at FROM usage_events u ORDER BY at, user_id = $1 DESC`,
      [alice],
    );
    expect(left).toEqual([
      { alice: true, at: new Date('2026-03-01T12:00:00Z') },
      { alice: false, at: new Date('2026-06-10T12:00:00Z') },
    ]);
    const [{ n: days }] = await ds.query('SELECT count(*)::int AS n FROM usage_daily');
    expect(days).toBe(2);
    const [{ n: messages }] = await ds.query('SELECT count(*)::int AS n FROM messages');
    expect(messages).toBe(1);
    const [applied] = await ds.query(
      `SELECT payload FROM audit_events WHERE action = 'audit.retention.applied' ORDER BY id DESC LIMIT 1`,
    );
    expect(applied.payload).toMatchObject({
      rules: { usageDays: 90 },
      usageEventsDeleted: 2,
      usageDaysDeleted: 2,
      usageHeld: 2,
    });
  });

  it('creates partitions ahead and moves rows the default partition caught', async () => {
    const { ds } = await freshDatabase();
    await ds.query('DROP TABLE audit_events_p' + yyyymm(new Date()));
    await appendAt(ds, new Date().toISOString(), { actorId: null, action: 'test.event' });
    const [{ n: inDefault }] = await ds.query(
      'SELECT count(*)::int AS n FROM audit_events_default',
    );
    expect(inDefault).toBe(1);
    const r = await applyRetention(
      ds,
      { audit: { default: null, byKind: {} }, messageDays: null },
      new Date(),
    );
    expect(r.partitionsCreated).toContain(`audit_events_p${yyyymm(new Date())}`);
    const [{ n: after }] = await ds.query('SELECT count(*)::int AS n FROM audit_events_default');
    expect(after).toBe(0);
    const names = (await monthlyPartitions(sqlOf(ds), 'audit_events')).map((p) => p.name);
    const in2 = new Date();
    in2.setUTCDate(1);
    in2.setUTCMonth(in2.getUTCMonth() + 2);
    expect(names).toContain(`audit_events_p${yyyymm(in2)}`);
  });
});

function yyyymm(d: Date): string {
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

describe('erasure', () => {
  it("erases one user's payloads and messages; verify --db and the offline export stay green", async () => {
    const { db, ds } = await freshDatabase();
    const alice = await addUser(ds, 'alice@example.com');
    const bob = await addUser(ds, 'bob@example.com');
    const now = new Date().toISOString();
    await appendAt(ds, now, {
      actorId: alice,
      action: 'chat.completion',
      payload: { prompt: [{ role: 'user', content: 'my secret' }], answer: 'shh' },
    });
    await ds.transaction((m) =>
      new AuditLog().append(m, {
        actor: ADMIN,
        action: 'user.role_changed',
        target: { type: 'user', id: alice },
        outcome: 'success',
        payload: { before: 'user', after: 'auditor' },
      }),
    );
    await appendAt(ds, now, {
      actorId: bob,
      action: 'chat.completion',
      payload: { answer: 'bob' },
    });
    const [{ id: conv }] = await ds.query(
      `INSERT INTO conversations (user_id, title, system_prompt) VALUES ($1, 'my secret plan', 'my secret persona') RETURNING id`,
      [alice],
    );
    await ds.query(
      `INSERT INTO chat_presets (user_id, name, system_prompt) VALUES ($1, 'mine', 'my secret persona')`,
      [alice],
    );
    await ds.query(
      `INSERT INTO prompt_templates (user_id, name, content) VALUES ($1, 'mine', 'my secret words')`,
      [alice],
    );
    await ds.query(
      `INSERT INTO messages (conversation_id, user_id, role, content) VALUES ($1, $2, 'user', 'my secret'), (NULL, $3, 'user', 'bob text')`,
      [conv, alice, bob],
    );
    await sealAll(db.url, key);
    const env = { DATABASE_URL: db.url, AUDIT_SIGNING_KEY_FILE: keyPath };

    // A hold on bob blocks erasing him (and changes nothing).
    const hold = await ds.transaction((m) =>
      new LegalHolds(new UsersRepository(ds)).create(
        m,
        { userId: bob, from: null, to: null, reason: 'case 7 hold' },
        ADMIN,
      ),
    );
    await expect(
      ds.transaction((m) => eraseUser(m, bob, 'asked to be forgotten', ADMIN)),
    ).rejects.toMatchObject({ code: 'legal_hold_active' });
    const blocked = enclave(
      ['audit', 'erase', '--user', 'bob@example.com', '--reason', 'gdpr art 17'],
      env,
    );
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain(hold.id);
    // The CLI lists the hold with the held user's email (read from libs/auth).
    const listed = enclave(['audit', 'holds', '--active', '--json'], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ id: hold.id, userId: bob, userEmail: 'bob@example.com' }),
    ]);
    const [{ n: bobRedacted }] = await ds.query(
      'SELECT count(*)::int AS n FROM audit_events WHERE redacted_at IS NOT NULL',
    );
    expect(bobRedacted).toBe(0);

    const r = enclave(
      ['audit', 'erase', '--user', 'alice@example.com', '--reason', 'gdpr art 17'],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 audit payloads, 1 messages, 1 conversation titles');

    const events = await ds.query(
      `SELECT action, payload, payload_salt, redacted_at IS NOT NULL AS redacted FROM audit_events
        WHERE actor_id = $1 OR target_id = $1::text ORDER BY id`,
      [alice],
    );
    expect(events).toEqual([
      {
        action: 'chat.completion',
        payload: { redacted: true },
        payload_salt: null,
        redacted: true,
      },
      {
        action: 'user.role_changed',
        payload: { redacted: true },
        payload_salt: null,
        redacted: true,
      },
      {
        action: 'audit.erasure.performed',
        payload: {
          userId: alice,
          reason: 'gdpr art 17',
          auditEvents: 2,
          messages: 1,
          conversations: 1,
          feedbackComments: 0,
          presetsAndTemplates: 2,
          storedResponses: 0,
        },
        payload_salt: expect.anything(),
        redacted: false,
      },
    ]);
    expect(await ds.query('SELECT user_id AS u, content FROM messages ORDER BY content')).toEqual([
      { u: alice, content: '' },
      { u: bob, content: 'bob text' },
    ]);
    const [erased] = await ds.query(
      'SELECT title, system_prompt FROM conversations WHERE id = $1',
      [conv],
    );
    expect(erased).toEqual({ title: 'Erased conversation', system_prompt: null });
    expect(
      await ds.query(
        'SELECT 1 FROM chat_presets WHERE user_id = $1 UNION ALL SELECT 1 FROM prompt_templates WHERE user_id = $1',
        [alice],
      ),
    ).toEqual([]);

    await sealAll(db.url, key);
    const verify = enclave(['audit', 'verify', '--db', '--json'], env);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, redacted: 2, problems: [] });
    const { verdict, lines } = await exportAndVerify(ds, 'after-erasure');
    expect(verdict.redacted).toBe(2);
    expect(JSON.stringify(lines)).not.toContain('my secret');

    // Redaction only erases: a redacted event whose payload says anything else is tampered.
    await ds.query(
      `UPDATE audit_events SET payload = '{"answer": "forged"}' WHERE action = 'user.role_changed'`,
    );
    const tampered = await verifyDatabaseChain(sqlOf(ds), key.publicKey);
    expect(tampered.problems[0]).toMatchObject({ kind: 'payload_modified' });
  });
});
