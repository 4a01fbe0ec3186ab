import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import type { DataSource } from 'typeorm';
import { AuditLog, canonicalJson } from '@enclave/audit';
import {
  type ExportManifest,
  type ExportVerdict,
  generateSigningKey,
  publicKeyPem,
  signText,
  type SigningKey,
  verifyDatabaseChain,
  verifyExport,
  writeExport,
} from '@enclave/audit-chain';
import { sqlOf } from '@enclave/db';
import type { TestDatabase } from '../../../test/support/postgres.js';
import { appendEvents, event, migratedDatabase, sealAll, tempKey } from './chain-fixture.js';

const CLI = fileURLToPath(new URL('../../../dist/apps/cli/src/main.js', import.meta.url));

let db: TestDatabase;
let ds: DataSource;
let key: SigningKey;
let keyPath: string;
let pubPath: string;
let out: string;

beforeAll(async () => {
  ({ key, path: keyPath } = tempKey());
  pubPath = join(mkdtempSync(join(tmpdir(), 'enclave-pub-')), 'audit.pub');
  writeFileSync(pubPath, publicKeyPem(key));
  ({ db, ds } = await migratedDatabase());
  await appendEvents(ds, 0, 120);
  await sealAll(db.url, key, 25);
  // Sealed after the last checkpoint: the export must sign a checkpoint of the head to cover them.
  await appendEvents(ds, 120, 5);
  await sealAll(db.url, key, 1_000);
  out = mkdtempSync(join(tmpdir(), 'enclave-export-'));
});

afterAll(async () => {
  await ds.destroy();
  await db.drop();
});

/** The built `enclave` CLI; env is all it gets (no config file). */
function enclave(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH!, ENCLAVE_CONFIG: '/dev/null', ...env },
    cwd: tmpdir(),
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function exportVia(name: string, extra: string[] = []) {
  const r = enclave(['audit', 'export', '--out', out, '--name', name, ...extra], {
    DATABASE_URL: db.url,
    AUDIT_SIGNING_KEY_FILE: keyPath,
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return join(out, `${name}.manifest.json`);
}

/** A copy of an export, so each tampering starts from the untouched files. */
function copyExport(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'enclave-tamper-'));
  cpSync(out, dir, { recursive: true });
  return join(dir, `${name}.manifest.json`);
}

function editLines(path: string, edit: (lines: string[]) => string[]): void {
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  writeFileSync(path, `${edit(lines).join('\n')}\n`);
}

function verify(manifestPath: string): Promise<ExportVerdict> {
  return verifyExport(manifestPath, key.publicKey);
}

function first(v: ExportVerdict) {
  expect(v.ok).toBe(false);
  return v.problems[0]!;
}

describe('exports', () => {
  it('a full JSONL export covers every sealed event and verifies offline with only the public key', async () => {
    const manifestPath = exportVia('full');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ExportManifest;
    expect(manifest.dataFile.events).toBe(125);
    expect(manifest.chain).toMatchObject({ fromPos: 0, toPos: 125 });
    const lines = readFileSync(join(out, 'full.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).pos)).toEqual(
      Array.from({ length: 125 }, (_, i) => i + 1),
    );
    expect(JSON.parse(lines[7]!).payload).toMatchObject({ n: 7, model: 'enclave-sim' });

    // No database, no configuration: just the files and the key.
    const r = enclave(['audit', 'verify', manifestPath, '--public-key', pubPath], {});
    expect(r.stdout).toMatch(/^audit export: OK \(125 positions, 125 events/);
    expect(r.code).toBe(0);
  });

  it('creating an export is itself audited', async () => {
    const rows = await ds.query(
      `SELECT payload FROM audit_events WHERE action = 'audit.export.created' AND target_id = 'full'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].payload).toMatchObject({ via: 'cli', events: 125, format: 'jsonl' });
  });

  it('a filtered CSV export holds only matching events and still verifies against the chain', async () => {
    const manifestPath = exportVia('filtered', [
      '--format',
      'csv',
      '--action',
      'chat.*',
      '--actor',
      '00000000-0000-4000-8000-000000000001',
    ]);
    const [{ n }] = await ds.query(
      `SELECT count(*)::int AS n FROM audit_events e JOIN audit_chain c ON c.event_id = e.id
        WHERE action LIKE 'chat.%' AND actor_id = '00000000-0000-4000-8000-000000000001'`,
    );
    const rows = parse(readFileSync(join(out, 'filtered.csv')), { columns: true }) as Record<
      string,
      string
    >[];
    expect(rows.length).toBe(n);
    expect(n).toBeGreaterThan(10);
    expect(new Set(rows.map((r) => r.action))).toEqual(new Set(['chat.completion']));
    const verdict = await verifyExport(manifestPath, key.publicKey);
    expect(verdict.problems).toEqual([]);
    expect(verdict.events).toBe(n);
  });

  it('an export with the wrong public key does not verify', async () => {
    const stranger = generateSigningKey(join(mkdtempSync(join(tmpdir(), 'k-')), 'k.pem'));
    const v = await verifyExport(join(out, 'full.manifest.json'), stranger.publicKey);
    expect(first(v).kind).toBe('key_unknown');
  });
});

describe('tamper matrix (a text editor on the exported files)', () => {
  const lineOfPos = (pos: number) => pos - 1; // full.jsonl: line i holds position i + 1

  it('a modified event is pinpointed', async () => {
    const m = copyExport('full');
    editLines(m.replace('.manifest.json', '.jsonl'), (ls) => {
      const e = JSON.parse(ls[lineOfPos(40)]!);
      e.actorLabel = 'nobody@example.com';
      ls[lineOfPos(40)] = JSON.stringify(e);
      return ls;
    });
    const v = await verify(m);
    expect(first(v)).toMatchObject({ pos: 40, kind: 'event_modified' });
    expect(v.problems.some((p) => p.kind === 'file_modified')).toBe(true);
  });

  it('a modified payload is pinpointed', async () => {
    const m = copyExport('full');
    editLines(m.replace('.manifest.json', '.jsonl'), (ls) =>
      ls.map((l, i) =>
        i === lineOfPos(77) ? l.replace('"model":"enclave-sim"', '"model":"other"') : l,
      ),
    );
    expect(first(await verify(m))).toMatchObject({
      pos: 77,
      kind: 'payload_modified',
    });
  });

  it('a deleted event is pinpointed', async () => {
    const m = copyExport('full');
    editLines(m.replace('.manifest.json', '.jsonl'), (ls) =>
      ls.filter((_, i) => i !== lineOfPos(55)),
    );
    expect(first(await verify(m))).toMatchObject({
      pos: 55,
      kind: 'position_missing',
    });
  });

  it('a forged inserted event is pinpointed', async () => {
    const m = copyExport('full');
    editLines(m.replace('.manifest.json', '.jsonl'), (ls) => {
      const forged = {
        ...JSON.parse(ls[lineOfPos(90)]!),
        id: '999999',
        action: 'admin.user.deleted',
      };
      ls.splice(lineOfPos(91), 0, JSON.stringify(forged));
      return ls;
    });
    expect(first(await verify(m))).toMatchObject({ pos: 90 });
  });

  it('reordered events are pinpointed', async () => {
    const m = copyExport('full');
    editLines(m.replace('.manifest.json', '.jsonl'), (ls) => {
      [ls[lineOfPos(20)], ls[lineOfPos(21)]] = [ls[lineOfPos(21)]!, ls[lineOfPos(20)]!];
      return ls;
    });
    expect(first(await verify(m)).pos).toBe(20);
  });

  it('a truncated tail is found against the covering checkpoint', async () => {
    const m = copyExport('full');
    editLines(m.replace('.manifest.json', '.jsonl'), (ls) => ls.slice(0, 110));
    expect(first(await verify(m))).toMatchObject({
      pos: 111,
      kind: 'tail_truncated',
    });
  });

  it('an edited manifest (count, checkpoint) is refused', async () => {
    const m = copyExport('full');
    const manifest = JSON.parse(readFileSync(m, 'utf8')) as ExportManifest;
    writeFileSync(
      m,
      JSON.stringify({ ...manifest, dataFile: { ...manifest.dataFile, events: 110 } }),
    );
    expect(first(await verify(m)).kind).toBe('file_modified');
  });

  it('a forged checkpoint is found even in a manifest re-signed with a stolen signature format', async () => {
    // The attacker edits a checkpoint and re-signs the manifest with their own key, claiming ours.
    const m = copyExport('full');
    const attacker = generateSigningKey(join(mkdtempSync(join(tmpdir(), 'k-')), 'k.pem'));
    const manifest = JSON.parse(readFileSync(m, 'utf8')) as ExportManifest;
    manifest.checkpoints[1]!.hash = 'ab'.repeat(32);
    const { signature: _s, ...unsigned } = manifest;
    manifest.signature = signText(attacker.privateKey, canonicalJson(unsigned));
    writeFileSync(m, JSON.stringify(manifest));
    expect(first(await verify(m)).kind).toBe('file_modified');
  });

  it('a modified CSV cell is pinpointed', async () => {
    const m = copyExport('filtered');
    const csvPath = m.replace('.manifest.json', '.csv');
    const rows = parse(readFileSync(csvPath), { columns: true }) as Record<string, string>[];
    const target = rows[3]!;
    writeFileSync(
      csvPath,
      readFileSync(csvPath, 'utf8').replace(`"${target.requestId}"`, '"req-forged"'),
    );
    expect(first(await verify(m))).toMatchObject({
      pos: Number(target.pos),
      kind: 'event_modified',
    });
  });

  it('a line rewritten by another JSON tool is judged by its values, not its text', async () => {
    // Same values, other text: payload keys in reverse order, a string with an escape. The
    // verifier reads the exporter's own layout without JSON.parse and hashes the payload text as
    // it stands; any other text must still be parsed and canonicalised, as before.
    const m = copyExport('full');
    editLines(m.replace('.manifest.json', '.jsonl'), (ls) => {
      // Position 30: the exporter's layout but for the payload's key order.
      const e = JSON.parse(ls[lineOfPos(30)]!);
      e.payload = Object.fromEntries(Object.entries(e.payload as object).reverse());
      ls[lineOfPos(30)] = JSON.stringify(e);
      // Position 31: the action written with escapes.
      const f = JSON.parse(ls[lineOfPos(31)]!);
      const escaped = [...(f.action as string)]
        .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
        .join('');
      ls[lineOfPos(31)] = ls[lineOfPos(31)]!.replace(
        `"action":"${f.action}"`,
        `"action":"${escaped}"`,
      );
      expect(JSON.parse(ls[lineOfPos(31)]!).action).toBe(f.action);
      return ls;
    });
    const v = await verify(m);
    expect(v.problems.map((p) => p.kind)).toEqual(['file_modified']);
  });

  it('a line that is no longer an event is named by its line number', async () => {
    const m = copyExport('full');
    editLines(m.replace('.manifest.json', '.jsonl'), (ls) =>
      ls.map((l, i) => (i === lineOfPos(64) ? l.slice(0, 40) : l)),
    );
    const v = await verify(m);
    expect(v.problems).toContainEqual(
      expect.objectContaining({
        kind: 'file_modified',
        message: expect.stringMatching(/^line 64 of full\.jsonl is not an exported event/),
      }),
    );
    expect(v.problems).toContainEqual(
      expect.objectContaining({ pos: 64, kind: 'position_missing' }),
    );
  });

  it('untouched copies verify clean', async () => {
    expect((await verify(copyExport('full'))).ok).toBe(true);
    expect((await verify(copyExport('filtered'))).ok).toBe(true);
  });
});

describe('values that JSON must escape', () => {
  it('export (from the fields as stored) and verify offline (either reader) agree with the sealer', async () => {
    const { db: db2, ds: ds2 } = await migratedDatabase();
    try {
      const odd = 'quote " backslash \\ tab \t newline \n bell \u0007 é 😀 \u2028 end';
      const audit = new AuditLog();
      for (let i = 0; i < 3; i++) {
        await ds2.transaction((m) =>
          audit.append(m, {
            ...event(i),
            actor: { type: 'user', id: null, label: `${odd} #${i}` },
            meta: { ip: null, userAgent: odd, requestId: null },
            payload: { text: odd, [odd]: i },
          }),
        );
      }
      await sealAll(db2.url, key, 2);
      const dir = mkdtempSync(join(tmpdir(), 'enclave-export-odd-'));
      const { manifestPath, manifest } = await writeExport({
        sql: sqlOf(ds2),
        dir,
        name: 'odd',
        format: 'jsonl',
        filter: {},
        signingKey: key,
        createdBy: 'test',
      });
      expect(manifest.dataFile.events).toBe(3);
      const lines = readFileSync(join(dir, 'odd.jsonl'), 'utf8').trim().split('\n');
      expect(JSON.parse(lines[1]!)).toMatchObject({
        actorLabel: `${odd} #1`,
        userAgent: odd,
        sourceIp: null,
        payload: { text: odd, [odd]: 1 },
      });
      const v = await verify(manifestPath);
      expect(v.problems).toEqual([]);
      expect(v.events).toBe(3);
    } finally {
      await ds2.destroy();
      await db2.drop();
    }
  });
});

describe('payloads stored before they were kept as canonical text', () => {
  it('a payload in jsonb text form (key order, spacing) verifies, exports canonical and verifies offline', async () => {
    const { db: db2, ds: ds2 } = await migratedDatabase();
    try {
      await appendEvents(ds2, 0, 6);
      await sealAll(db2.url, key, 3);
      const [stored] = await ds2.query(`SELECT payload::text AS text FROM audit_events LIMIT 1`);
      expect(stored.text).toBe(canonicalJson(JSON.parse(stored.text)));
      // What migration 1764979200000 left of a row written before it: jsonb's own text.
      await ds2.query(`UPDATE audit_events SET payload = payload::jsonb::json`);
      const [migrated] = await ds2.query(`SELECT payload::text AS text FROM audit_events LIMIT 1`);
      expect(migrated.text).not.toBe(stored.text);
      expect((await verifyDatabaseChain(sqlOf(ds2), key.publicKey)).problems).toEqual([]);

      const dir = mkdtempSync(join(tmpdir(), 'enclave-export-jsonb-'));
      const { manifestPath } = await writeExport({
        sql: sqlOf(ds2),
        dir,
        name: 'old',
        format: 'jsonl',
        filter: {},
        signingKey: key,
        createdBy: 'test',
      });
      const lines = readFileSync(join(dir, 'old.jsonl'), 'utf8').trim().split('\n');
      expect(lines).toHaveLength(6);
      for (const line of lines) {
        const payload = JSON.parse(line).payload;
        expect(line).toContain(`"payload":${canonicalJson(payload)},`);
      }
      const v = await verify(manifestPath);
      expect(v.problems).toEqual([]);
      expect(v.events).toBe(6);

      // Still checked, not trusted: a changed value in that form is found by the exporter.
      await ds2.query(
        `UPDATE audit_events SET payload = (payload::jsonb || '{"n": 999}')::json
          WHERE id = (SELECT max(id) FROM audit_events)`,
      );
      await expect(
        writeExport({
          sql: sqlOf(ds2),
          dir,
          name: 'tampered',
          format: 'jsonl',
          filter: {},
          signingKey: key,
          createdBy: 'test',
        }),
      ).rejects.toThrow(/payload does not match its sealed hash; export refused/);
    } finally {
      await ds2.destroy();
      await db2.drop();
    }
  });
});
