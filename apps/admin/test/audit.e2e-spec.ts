import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { generateSigningKey, Keyring, type SigningKey, verifyExport } from '@enclave/audit-chain';
import type { Config } from '@enclave/config';
import request from 'supertest';
import { AdminAppModule } from '../src/admin.module.js';
import { AuditAppModule } from '../../audit/src/audit.module.js';
import { startApp } from '../../../test/support/app.js';
import {
  auditSince,
  credentials,
  lastAuditId,
  sessionCredential,
} from '../../../test/support/auth.js';
import { ChatHarness } from '../../../test/support/chat-harness.js';

// The audit trail in the console: search, chain status, verification, and exports that the audit
// app (a real instance, with the signing key) produces from a request made through the admin
// API, downloaded here and verified offline with the same verifier as `enclave audit verify`.
// The admin app runs as on another host: its own data and export directories, no signing key,
// only the published keyring; the export reaches it through the database.

interface Listed {
  position: number | null;
  id: string;
  occurredAt: string;
  actor: { type: string; id: string | null; label: string | null };
  action: string;
  target: { type: string; id: string | null } | null;
  outcome: string;
  payload: Record<string, unknown>;
  redacted: boolean;
}

async function until<T>(what: string, check: () => Promise<T | null | false>, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('admin: audit trail and exports', () => {
  let dir: string;
  let key: SigningKey;
  let h: ChatHarness;
  let admin: INestApplication;
  let audit: INestApplication;
  let adminKey: string;
  let auditorKey: string;
  let auditorId: string;
  let userKey: string;
  let staff: Awaited<ReturnType<ChatHarness['user']>>;

  const api = () => request(admin.getHttpServer());
  const get = (k: string, path: string, query: Record<string, string> = {}) =>
    api().get(`/api/admin/audit${path}`).query(query).set(credentials(k));
  const post = (k: string, path: string, body: object = {}) =>
    api().post(`/api/admin/audit${path}`).set(credentials(k)).send(body);
  const sealed = () =>
    until('every event to be sealed', async () => {
      const s = (await get(auditorKey, '/status').expect(200)).body;
      return s.unsealedEvents === 0 && s.sealedEvents > 0 ? s : null;
    });
  const verified = (id: string) =>
    until(`verification ${id} to finish`, async () => {
      const v = (await get(auditorKey, `/verifications/${id}`).expect(200)).body;
      return v.status === 'done' || v.status === 'failed' ? v : null;
    });
  /** Asks for a verification, as the console does, and waits for the audit app's verdict. */
  const verify = async () => {
    const asked = await post(auditorKey, '/verifications').expect(202);
    return verified(asked.body.id);
  };
  const exported = (id: string) =>
    until(`export ${id} to finish`, async () => {
      const e = (await get(auditorKey, `/exports/${id}`).expect(200)).body;
      return e.status === 'done' || e.status === 'failed' ? e : null;
    });

  /** Downloads the three files of an export into a fresh folder; returns the manifest's path. */
  async function download(id: string, k: string): Promise<string> {
    const into = mkdtempSync(join(dir, 'download-'));
    let manifestPath = '';
    for (const file of ['data', 'links', 'manifest']) {
      const res = await get(k, `/exports/${id}/${file}`)
        .buffer(true)
        .parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        })
        .expect(200);
      const m = /^attachment; filename="([^"]+)"$/.exec(res.headers['content-disposition'] ?? '');
      expect(m).not.toBeNull();
      writeFileSync(join(into, m![1]!), res.body as Buffer);
      if (file === 'manifest') manifestPath = join(into, m![1]!);
    }
    return manifestPath;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'enclave-admin-audit-'));
    key = generateSigningKey(join(dir, 'signing-key.pem'));
    h = await ChatHarness.start(
      {},
      {
        AUDIT_SIGNING_KEY_FILE: join(dir, 'signing-key.pem'),
        AUDIT_EXPORT_DIR: join(dir, 'exports'),
        AUDIT_SEAL_INTERVAL_MS: '20',
        AUDIT_CHECKPOINT_EVERY: '5',
      },
    );
    const adminHost = join(dir, 'admin-host');
    mkdirSync(adminHost);
    const keyringFile = join(adminHost, 'keyring.json');
    Keyring.ofKey(key.publicKey).save(keyringFile);
    const adminConfig: Config = {
      ...h.config,
      database: { ...h.config.database, dataDir: adminHost },
      audit: {
        ...h.config.audit,
        exportDir: join(adminHost, 'exports'),
        signingKeyFile: join(adminHost, 'no-signing-key-here.pem'),
        keyringFile,
      },
    };
    admin = await startApp(AdminAppModule.forRoot(adminConfig), adminConfig);
    audit = await startApp(AuditAppModule.forRoot(h.config), h.config);
    const a = await h.user('root@example.com', { role: 'admin' });
    adminKey = await sessionCredential(h.app, a.userId);
    const au = await h.user('auditor@example.com', { role: 'auditor' });
    auditorKey = await sessionCredential(h.app, au.userId);
    auditorId = au.userId;
    staff = await h.user('staff@example.com');
    userKey = staff.key;
    for (const content of ['one', 'two', 'three']) {
      await staff.client.chat.completions.create({
        model: 'enclave-sim',
        messages: [{ role: 'user', content }],
      });
    }
    await api()
      .patch('/api/admin/policies')
      .set(credentials(adminKey))
      .send({ defaultSystemPrompt: 'Be brief.' })
      .expect(200);
    await sealed();
  });
  afterAll(async () => {
    await audit.close();
    await admin.close();
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('searches events newest first with their chain positions, filtered and paged', async () => {
    const all = (await get(auditorKey, '/events').expect(200)).body;
    const events = all.data as Listed[];
    expect(events.length).toBeGreaterThanOrEqual(4);
    expect(events.map((e) => Number(e.id))).toEqual(
      [...events.map((e) => Number(e.id))].sort((x, y) => y - x),
    );
    expect(events.every((e) => typeof e.position === 'number')).toBe(true);

    const chats = (await get(auditorKey, '/events', { action: 'chat.*' }).expect(200)).body
      .data as Listed[];
    expect(chats.map((e) => e.action)).toEqual([
      'chat.completion',
      'chat.completion',
      'chat.completion',
    ]);
    expect(chats[0]).toMatchObject({
      actor: { type: 'api_key', id: staff.userId },
      target: { type: 'message' },
      outcome: 'success',
      redacted: false,
    });

    const policy = (
      await get(adminKey, '/events', {
        action: 'admin.policies.updated',
        actor: 'root@example.com',
      }).expect(200)
    ).body.data as Listed[];
    expect(policy).toHaveLength(1);
    expect(policy[0]!.payload).toMatchObject({ after: { defaultSystemPrompt: 'Be brief.' } });
    const byId = (await get(adminKey, '/events', { actor: staff.userId }).expect(200)).body.data;
    expect(byId).toHaveLength(3);
    const future = (await get(adminKey, '/events', { from: '2099-01-01' }).expect(200)).body.data;
    expect(future).toEqual([]);

    const seen: string[] = [];
    let before: string | null = null;
    do {
      const query: Record<string, string> = { limit: '2', action: 'chat.completion' };
      if (before) query.before = before;
      const page = (await get(auditorKey, '/events', query).expect(200)).body;
      seen.push(...(page.data as Listed[]).map((e) => e.id));
      before = page.nextBefore;
    } while (before);
    expect(seen).toEqual(chats.map((e) => e.id));
  });

  it('reports the chain status and verifies the whole chain', async () => {
    const status = (await get(auditorKey, '/status').expect(200)).body;
    expect(status.unsealedEvents).toBe(0);
    expect(status.head).toEqual({
      position: status.sealedEvents,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(status.lastCheckpoint).toMatchObject({
      position: expect.any(Number),
      signedAt: expect.any(String),
    });
    const since = await lastAuditId(h.dataSource);
    const asked = await post(auditorKey, '/verifications').expect(202);
    expect(asked.body).toMatchObject({
      status: 'pending',
      createdBy: 'auditor@example.com',
      verdict: null,
      error: null,
    });
    // Asked again while it is open: the same job, not a second walk.
    const again = await post(auditorKey, '/verifications').expect(200);
    expect(again.body.id).toBe(asked.body.id);
    const job = await verified(asked.body.id);
    expect(job).toMatchObject({ status: 'done', error: null });
    expect(job.verdict).toMatchObject({ ok: true, firstBad: null });
    expect(job.verdict.checkedEvents).toBeGreaterThanOrEqual(status.sealedEvents);
    expect(job.positionsChecked).toBe(job.verdict.positions);
    expect((await get(auditorKey, '/verifications').expect(200)).body.data[0].id).toBe(job.id);
    const [requested] = await auditSince(h.dataSource, since, 'audit.verification.requested');
    expect(requested).toMatchObject({ actorId: auditorId, targetId: job.id, outcome: 'success' });
    const finished = await until('the verification event', async () => {
      const [e] = await auditSince(h.dataSource, since, 'audit.verification.finished');
      return e ?? null;
    });
    expect(finished).toMatchObject({ actorType: 'system', targetId: job.id, outcome: 'success' });
  });

  it('exports through the API: requested by an auditor, written by the audit app, downloaded and verified offline', async () => {
    const since = await lastAuditId(h.dataSource);
    const res = await post(auditorKey, '/exports', { format: 'jsonl', action: 'chat.*' }).expect(
      202,
    );
    expect(res.body).toMatchObject({
      status: 'pending',
      format: 'jsonl',
      filter: { action: 'chat.*', actorId: null, from: null, to: null },
      events: null,
      dataSha256: null,
      error: null,
      createdBy: 'auditor@example.com',
    });
    const [created] = await auditSince(h.dataSource, since, 'audit.export.created');
    expect(created).toMatchObject({
      actorId: auditorId,
      targetType: 'audit_export',
      targetId: res.body.id,
      payload: { via: 'api', format: 'jsonl', filter: { action: 'chat.*' } },
    });

    const done = await exported(res.body.id);
    expect(done).toMatchObject({ status: 'done', events: 3, error: null });
    expect(done.dataSha256).toMatch(/^[0-9a-f]{64}$/);
    const listed = (await get(adminKey, '/exports').expect(200)).body.data as { id: string }[];
    expect(listed.map((e) => e.id)).toContain(res.body.id);

    // Nothing on disk on either host: the files came out of the database.
    for (const exportDir of [join(dir, 'exports'), join(dir, 'admin-host', 'exports')]) {
      expect(existsSync(exportDir) ? readdirSync(exportDir) : []).toEqual([]);
    }
    const manifestPath = await download(res.body.id, auditorKey);
    const verdict = await verifyExport(manifestPath, key.publicKey);
    expect(verdict.problems).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.manifest?.dataFile).toMatchObject({ events: 3, sha256: done.dataSha256 });

    const downloads = await auditSince(h.dataSource, since, 'audit.export.downloaded');
    expect(downloads.map((d) => d.payload.file)).toEqual(['data', 'links', 'manifest']);
    expect(downloads[0]).toMatchObject({ actorId: auditorId, targetId: res.body.id });
    const [finished] = await auditSince(h.dataSource, since, 'audit.export.finished');
    expect(finished).toMatchObject({
      actorType: 'system',
      outcome: 'success',
      targetId: res.body.id,
      payload: { events: 3, dataSha256: done.dataSha256 },
    });
  });

  it('exports CSV for one actor, and the tampered download fails verification', async () => {
    const res = await post(adminKey, '/exports', { format: 'csv', actor: staff.userId }).expect(
      202,
    );
    const done = await exported(res.body.id);
    expect(done).toMatchObject({ status: 'done', events: 3 });
    const data = await get(adminKey, `/exports/${res.body.id}/data`).expect(200);
    expect(data.headers['content-type']).toContain('text/csv');
    const manifestPath = await download(res.body.id, adminKey);
    expect((await verifyExport(manifestPath, key.publicKey)).ok).toBe(true);
    const csv = join(manifestPath.replace(/\.manifest\.json$/, '.csv'));
    writeFileSync(csv, readFileSync(csv, 'utf8').replace('staff@example.com', 'other@example.com'));
    expect((await verifyExport(manifestPath, key.publicKey)).ok).toBe(false);
  });

  it('refuses bad requests, unknown and unfinished exports, and plain users', async () => {
    for (const [body, param] of [
      [{ format: 'xml' }, 'format'],
      [{}, 'format'],
      [{ format: 'csv', actor: 'root@example.com' }, 'actor'],
      [{ format: 'csv', action: 'DROP TABLE' }, 'action'],
      [{ format: 'csv', from: 'last week' }, 'from'],
      [{ format: 'csv', mode: 'fast' }, null],
    ] as const) {
      const res = await post(auditorKey, '/exports', body).expect(400);
      expect(res.body.error.code).toBe('invalid_body');
      if (param) expect(res.body.error.param).toBe(param);
    }
    const range = await post(auditorKey, '/exports', {
      format: 'csv',
      from: '2026-05-02',
      to: '2026-05-01',
    }).expect(400);
    expect(range.body.error.code).toBe('invalid_range');
    for (const [query, code] of [
      [{ limit: '501' }, 'invalid_query'],
      [{ before: 'abc' }, 'invalid_query'],
      [{ action: 'auth.' }, 'invalid_query'],
      [{ to: 'tomorrow' }, 'invalid_query'],
    ] as const) {
      expect((await get(auditorKey, '/events', query).expect(400)).body.error.code).toBe(code);
    }

    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await get(auditorKey, `/exports/${missing}`).expect(404)).body.error.code).toBe(
      'export_not_found',
    );
    expect((await get(auditorKey, `/exports/${missing}/data`).expect(404)).body.error.code).toBe(
      'export_not_found',
    );
    expect((await get(auditorKey, '/exports/nope').expect(400)).body.error.code).toBe('invalid_id');
    expect((await get(auditorKey, `/verifications/${missing}`).expect(404)).body.error.code).toBe(
      'verification_not_found',
    );
    expect((await get(auditorKey, '/verifications/nope').expect(400)).body.error.code).toBe(
      'invalid_id',
    );
    // One that an audit instance is still writing (claimed just now).
    const [{ id: running }] = await h.dataSource.query(
      `INSERT INTO audit_exports (status, format, filter, created_by_label, file_name, started_at)
       VALUES ('running', 'jsonl', '{}', 'test', 'in-progress', now()) RETURNING id`,
    );
    const busy = await get(auditorKey, `/exports/${running}/manifest`).expect(409);
    expect(busy.body.error.code).toBe('export_not_ready');

    for (const [method, path] of [
      ['get', '/events'],
      ['get', '/status'],
      ['post', '/verifications'],
      ['get', '/verifications'],
      ['post', '/exports'],
      ['get', '/exports'],
    ] as const) {
      const server = api();
      const res = await server[method](`/api/admin/audit${path}`)
        .set('authorization', `Bearer ${userKey}`)
        .send({ format: 'jsonl' })
        .expect(403);
      expect(res.body.error.code).toBe('forbidden');
    }
  });

  it('a verification whose audit instance died (no heartbeat for minutes) is taken over and finished', async () => {
    const [{ id }] = await h.dataSource.query(
      `INSERT INTO audit_verifications (status, created_by_label, started_at, heartbeat_at, positions_checked)
       VALUES ('running', 'test', now() - interval '10 minutes', now() - interval '10 minutes', 42)
       RETURNING id`,
    );
    // While it is open, asking again joins it.
    expect((await post(auditorKey, '/verifications').expect(200)).body.id).toBe(id);
    const job = await verified(id);
    expect(job).toMatchObject({ status: 'done', error: null, verdict: { ok: true } });
  });

  it('verification names the first bad position when an event was changed behind its back', async () => {
    const [{ id, pos }] = await h.dataSource.query(
      `SELECT e.id::text AS id, c.pos::int AS pos FROM audit_events e JOIN audit_chain c ON c.event_id = e.id
        WHERE e.action = 'chat.completion' ORDER BY c.pos LIMIT 1`,
    );
    await h.dataSource.query(
      `UPDATE audit_events SET payload = (payload::jsonb || '{"model":"forged"}')::json WHERE id = $1`,
      [id],
    );
    const job = await verify();
    expect(job.status).toBe('done');
    expect(job.verdict.ok).toBe(false);
    expect(job.verdict.firstBad).toMatchObject({ position: pos, problem: 'payload_modified' });
    const found = await until('the failed verification event', async () => {
      const rows = await auditSince(h.dataSource, 0, 'audit.verification.finished');
      return rows.find((e) => e.targetId === job.id) ?? null;
    });
    expect(found.outcome).toBe('failure');

    // The audit app refuses to sign an export of a chain that does not verify.
    const res = await post(auditorKey, '/exports', { format: 'jsonl' }).expect(202);
    const failed = await exported(res.body.id);
    expect(failed).toMatchObject({ status: 'failed', events: null, dataSha256: null });
    expect(failed.error).toContain('does not verify');
    const refused = await get(auditorKey, `/exports/${res.body.id}/data`).expect(409);
    expect(refused.body.error.code).toBe('export_not_ready');
    const finished = await auditSince(h.dataSource, 0, 'audit.export.finished');
    expect(finished.at(-1)).toMatchObject({ outcome: 'failure', targetId: res.body.id });
  });
});
