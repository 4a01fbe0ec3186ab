import { generateKeyPairSync } from 'node:crypto';
import { canonicalJson, payloadHash, sha256Hex } from '@enclave/audit';
import {
  type AuditRecord,
  ChainWalker,
  checkPayload,
  GENESIS_HASH,
  keyIdOf,
  Keyring,
  leafHash,
  linkHash,
  signCheckpoint,
} from '@enclave/audit-chain';
import { auditRecord } from './audit-record.js';

// A null actor id too: the leaf writes nulls as they are.
const record = (i: number): AuditRecord => auditRecord(i, { actorId: null });

describe('canonical JSON and the chain functions', () => {
  it('sorts keys at every depth, drops undefined members, and ignores jsonb key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"z":1}]},"b":1}',
    );
    expect(canonicalJson(JSON.parse('{"z":1,"a":2}'))).toBe(canonicalJson({ a: 2, z: 1 }));
  });

  it('writes the same text as the plain definition (sorted entries, JSON.stringify for scalars)', () => {
    // The definition in docs/audit.md, written the obvious way: hashes sealed before the fast
    // version must still verify, so the two may never differ.
    const reference = (v: unknown): string => {
      if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
      if (Array.isArray(v))
        return `[${v.map((x) => (x === undefined ? 'null' : reference(x))).join(',')}]`;
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function')
        return reference((v as { toJSON(): unknown }).toJSON());
      const entries = Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined && typeof x !== 'function')
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${reference(x)}`).join(',')}}`;
    };
    const values: unknown[] = [
      null,
      true,
      0,
      -0,
      1e21,
      1.5e-7,
      NaN,
      -Infinity,
      '',
      'plain ascii',
      'quote " backslash \\ tab \t newline \n',
      'é ünïcödé 😀 \u2028',
      '\ud800 lone surrogate',
      '\u007f\u0000',
      [1, undefined, () => 1, 'x', [[]], {}],
      { b: 1, a: [{ z: null, y: undefined, x: 'ä' }], '10': 'n', '9': 'm', é: 1, Z: 2, _: 3 },
      { toJSON: () => ({ d: 1, c: 2 }) },
      new Date('2025-11-28T10:00:00.123Z'),
      { nested: { deeper: { deepest: [false, 'a"b', 3.14159] } }, f: () => 1 },
    ];
    for (const v of values) expect(canonicalJson(v)).toBe(reference(v));
  });

  it('leafHash is SHA-256 of the canonical leaf object (as docs/audit.md defines it)', () => {
    const odd = {
      ...record(2),
      actorId: null,
      actorLabel: 'Zoë "quoted" \\ \u2028 \u{1F600}',
      targetType: null,
      targetId: null,
      sourceIp: null,
      userAgent: 'line\nbreak\ttab \u0000',
      requestId: null,
    };
    for (const r of [record(1), odd]) {
      const { payload: _p, payloadSalt: _s, redactedAt: _r, ...fields } = r;
      expect(leafHash(7, r)).toBe(sha256Hex(canonicalJson({ ...fields, pos: 7, v: 1 })));
    }
  });

  it('checks a stored payload text by its hash, and a jsonb-formatted or changed one by its value', () => {
    const r = record(3);
    const canonical = canonicalJson(r.payload);
    // As AuditLog.append stores it: the canonical text, hashed as it is.
    expect(checkPayload({ ...r, payloadText: canonical })).toEqual({
      text: canonical,
      intact: true,
    });
    // As a payload stored before the column kept its text (jsonb's own key order and spaces).
    const jsonbText = JSON.stringify(r.payload, null, 1);
    expect(jsonbText).not.toBe(canonical);
    expect(checkPayload({ ...r, payloadText: jsonbText })).toEqual({
      text: canonical,
      intact: true,
    });
    // Changed behind the chain's back, canonical or not.
    const changed = canonicalJson({ ...(r.payload as object), n: 99 });
    expect(checkPayload({ ...r, payloadText: changed }).intact).toBe(false);
    expect(checkPayload({ ...r, payloadText: ` ${changed}` }).intact).toBe(false);
    // Without a stored text (an export line read back): the value.
    expect(checkPayload(r)).toEqual({ text: canonical, intact: true });
  });

  it('the payload hash depends on the salt, so an erased payload cannot be confirmed by guessing', () => {
    expect(payloadHash('00'.repeat(16), { a: 1 })).not.toBe(payloadHash('01'.repeat(16), { a: 1 }));
  });

  it('a walker accepts an intact chain and names the first bad position of a broken one', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const key = { privateKey, keyId: keyIdOf(publicKey) };
    const steps: { pos: number; leafHash: string; hash: string; record: AuditRecord }[] = [];
    let hash = GENESIS_HASH;
    for (let pos = 1; pos <= 10; pos++) {
      const leaf = leafHash(pos, record(pos));
      hash = linkHash(hash, leaf);
      steps.push({ pos, leafHash: leaf, hash, record: record(pos) });
    }
    const checkpoints = [signCheckpoint(key, 5, steps[4]!.hash), signCheckpoint(key, 10, hash)];
    const walk = (mutate: (s: typeof steps) => typeof steps) => {
      const w = new ChainWalker({
        fromPos: 0,
        fromHash: GENESIS_HASH,
        checkpoints,
        keys: Keyring.ofKey(publicKey),
      });
      for (const s of mutate(structuredClone(steps))) w.visit(s);
      return w.finish();
    };
    expect(walk((s) => s)).toMatchObject({ ok: true, positions: 10, checkpoints: 2 });
    const changed = walk((s) => {
      s[5]!.record.outcome = 'failure';
      return s;
    });
    expect(changed.problems[0]).toMatchObject({ pos: 6, kind: 'event_modified' });
    expect(walk((s) => s.slice(0, 8)).problems[0]).toMatchObject({
      pos: 9,
      kind: 'tail_truncated',
    });
  });
});
