import { generateKeyPairSync } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { payloadHash } from '@enclave/audit';
import {
  AuditChainRepository,
  type DatabaseVerdict,
  generateSigningKey,
  leafHash,
  linkHash,
  signCheckpoint,
  verifyDatabaseChain,
  keyIdOf,
  type SigningKey,
} from '@enclave/audit-chain';
import { sqlOf } from '@enclave/db';
import type { TestDatabase } from '../../../test/support/postgres.js';
import {
  appendEvents,
  copyDatabase,
  migratedDatabase,
  openDataSource,
  sealAll,
  tempKey,
} from './chain-fixture.js';

const EVENTS = 60;
let base: TestDatabase;
let key: SigningKey;

beforeAll(async () => {
  key = tempKey().key;
  const { db, ds } = await migratedDatabase();
  base = db;
  await appendEvents(ds, 0, EVENTS);
  await ds.destroy();
  await sealAll(base.url, key);
});

afterAll(async () => {
  await base.drop();
});

/** Tampers with a fresh copy of the sealed database, then verifies it. */
async function tamperAndVerify(
  tamper: (ds: DataSource) => Promise<unknown>,
): Promise<DatabaseVerdict> {
  const copy = await copyDatabase(base);
  const ds = await openDataSource(copy.url);
  try {
    await tamper(ds);
    return await verifyDatabaseChain(sqlOf(ds), key.publicKey);
  } finally {
    await ds.destroy();
    await copy.drop();
  }
}

async function eventIdAt(ds: DataSource, pos: number): Promise<string> {
  const [row] = await ds.query('SELECT event_id::text AS id FROM audit_chain WHERE pos = $1', [
    pos,
  ]);
  return row.id;
}

function firstProblem(v: DatabaseVerdict) {
  expect(v.ok).toBe(false);
  return v.problems[0]!;
}

describe('the audit chain in the database', () => {
  it('verifies clean when untouched: every event sealed once, checkpoints signed', async () => {
    const v = await tamperAndVerify(async () => {});
    expect(v).toMatchObject({
      ok: true,
      positions: EVENTS,
      events: EVENTS,
      lastPos: EVENTS,
      unsealed: 0,
    });
    expect(v.checkpoints).toBeGreaterThanOrEqual(4);
    expect(v.problems).toEqual([]);
  });

  it('commits to the payload hash, not the payload: links hold no payload', async () => {
    const ds = await openDataSource(base.url);
    try {
      const cols = await ds.query(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_chain' ORDER BY 1`,
      );
      expect(cols.map((c: { column_name: string }) => c.column_name)).toEqual([
        'event_id',
        'hash',
        'leaf_hash',
        'pos',
        'pruned_at',
        'sealed_at',
      ]);
      const [{ n }] = await ds.query('SELECT count(DISTINCT event_id)::int AS n FROM audit_chain');
      expect(n).toBe(EVENTS);
    } finally {
      await ds.destroy();
    }
  });
});

describe('tamper matrix (plain SQL on the database)', () => {
  it('a modified payload is pinpointed', async () => {
    const v = await tamperAndVerify(async (ds) =>
      ds.query(
        `UPDATE audit_events SET payload = jsonb_set(payload::jsonb, '{model}', '"gpt-evil"') WHERE id = $1`,
        [await eventIdAt(ds, 17)],
      ),
    );
    expect(firstProblem(v)).toMatchObject({ pos: 17, kind: 'payload_modified' });
  });

  it('a modified payload with its hash recomputed is pinpointed by the sealed leaf', async () => {
    const v = await tamperAndVerify(async (ds) => {
      const id = await eventIdAt(ds, 23);
      const salt = 'ab'.repeat(16);
      const forged = { n: 999 };
      await ds.query(
        `UPDATE audit_events SET payload = $2::json, payload_salt = decode($3, 'hex'), payload_hash = decode($4, 'hex') WHERE id = $1`,
        [id, JSON.stringify(forged), salt, payloadHash(salt, forged)],
      );
    });
    expect(firstProblem(v)).toMatchObject({ pos: 23, kind: 'event_modified' });
  });

  it('a modified event column (actor, time) is pinpointed', async () => {
    const v = await tamperAndVerify(async (ds) =>
      ds.query(`UPDATE audit_events SET actor_label = 'someone-else@example.com' WHERE id = $1`, [
        await eventIdAt(ds, 31),
      ]),
    );
    expect(firstProblem(v)).toMatchObject({ pos: 31, kind: 'event_modified' });
    const w = await tamperAndVerify(async (ds) =>
      ds.query(
        `UPDATE audit_events SET occurred_at = occurred_at - interval '1 day' WHERE id = $1`,
        [await eventIdAt(ds, 2)],
      ),
    );
    expect(firstProblem(w)).toMatchObject({ pos: 2, kind: 'event_modified' });
  });

  it('a deleted event is pinpointed', async () => {
    const v = await tamperAndVerify(async (ds) =>
      ds.query('DELETE FROM audit_events WHERE id = $1', [await eventIdAt(ds, 40)]),
    );
    expect(firstProblem(v)).toMatchObject({ pos: 40, kind: 'event_missing' });
  });

  it('a deleted event together with its link is pinpointed', async () => {
    const v = await tamperAndVerify(async (ds) => {
      const id = await eventIdAt(ds, 12);
      await ds.query('DELETE FROM audit_chain WHERE pos = 12');
      await ds.query('DELETE FROM audit_events WHERE id = $1', [id]);
    });
    expect(firstProblem(v)).toMatchObject({ pos: 12, kind: 'position_missing' });
  });

  it('a forged event written around the audit log is found', async () => {
    const v = await tamperAndVerify(async (ds) =>
      ds.query(
        `INSERT INTO audit_events (actor_type, action, outcome) VALUES ('system', 'admin.user.created', 'success')`,
      ),
    );
    expect(firstProblem(v)).toMatchObject({ pos: null, kind: 'unchained_event' });
  });

  it('a forged event spliced into the chain is pinpointed', async () => {
    const v = await tamperAndVerify(async (ds) => {
      await ds.query('UPDATE audit_chain SET pos = pos + 1000000 WHERE pos >= 25');
      await ds.query('UPDATE audit_chain SET pos = pos - 999999 WHERE pos > 1000000');
      const [e] = await ds.query(
        `INSERT INTO audit_events (actor_type, action, outcome, payload, payload_salt, payload_hash)
         VALUES ('system', 'admin.user.created', 'success', '{}', decode($1, 'hex'), decode($2, 'hex'))
         RETURNING id::text AS id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at`,
        ['00'.repeat(16), payloadHash('00'.repeat(16), {})],
      );
      const [prev] = await ds.query(
        `SELECT encode(hash, 'hex') AS hash FROM audit_chain WHERE pos = 24`,
      );
      const leaf = leafHash(25, {
        id: e.id,
        occurredAt: e.at,
        actorType: 'system',
        actorId: null,
        actorLabel: null,
        action: 'admin.user.created',
        targetType: null,
        targetId: null,
        outcome: 'success',
        sourceIp: null,
        userAgent: null,
        requestId: null,
        payload: {},
        payloadSalt: '00'.repeat(16),
        payloadHash: payloadHash('00'.repeat(16), {}),
        redactedAt: null,
      });
      await ds.query(
        `INSERT INTO audit_chain (pos, event_id, leaf_hash, hash) VALUES (25, $1, decode($2, 'hex'), decode($3, 'hex'))`,
        [e.id, leaf, linkHash(prev.hash, leaf)],
      );
    });
    expect(firstProblem(v)).toMatchObject({ pos: 25, kind: 'event_moved' });
  });

  it('a forged event spliced in with every later link recomputed is caught by the checkpoints', async () => {
    const v = await tamperAndVerify(async (ds) => {
      // The attacker knows the algorithm (not the key): rebuild positions 25.. from scratch.
      await ds.query('UPDATE audit_chain SET pos = pos + 1000000 WHERE pos >= 25');
      await ds.query('UPDATE audit_chain SET pos = pos - 999999 WHERE pos > 1000000');
      await ds.query(
        `INSERT INTO audit_events (actor_type, action, outcome, payload, payload_salt, payload_hash)
         VALUES ('system', 'admin.user.created', 'success', '{}', decode($1, 'hex'), decode($2, 'hex'))`,
        ['00'.repeat(16), payloadHash('00'.repeat(16), {})],
      );
      const [{ id }] = await ds.query(`SELECT max(id)::text AS id FROM audit_events`);
      await ds.query(
        `INSERT INTO audit_chain (pos, event_id, leaf_hash, hash) VALUES (25, $1, '\\x00'::bytea || decode(repeat('00', 31), 'hex'), decode(repeat('00', 32), 'hex'))`,
        [id],
      );
      await rechain(ds, 25);
    });
    const first = firstProblem(v);
    expect(first.kind).toBe('checkpoint_mismatch');
    expect(first.pos).toBeLessThanOrEqual(25);
    expect(v.problems.some((p) => p.kind === 'link_broken' || p.kind === 'event_modified')).toBe(
      false,
    );
  });

  it('reordered events are pinpointed', async () => {
    const v = await tamperAndVerify(async (ds) => {
      await ds.query('UPDATE audit_chain SET pos = pos + 1000000 WHERE pos IN (33, 34)');
      await ds.query('UPDATE audit_chain SET pos = 34 WHERE pos = 1000033');
      await ds.query('UPDATE audit_chain SET pos = 33 WHERE pos = 1000034');
    });
    expect(firstProblem(v)).toMatchObject({ pos: 33, kind: 'event_moved' });
  });

  it('reordered events with the links recomputed are caught by the checkpoints', async () => {
    const v = await tamperAndVerify(async (ds) => {
      await ds.query('UPDATE audit_chain SET pos = pos + 1000000 WHERE pos IN (33, 34)');
      await ds.query('UPDATE audit_chain SET pos = 34 WHERE pos = 1000033');
      await ds.query('UPDATE audit_chain SET pos = 33 WHERE pos = 1000034');
      await rechain(ds, 33);
    });
    expect(firstProblem(v).kind).toBe('checkpoint_mismatch');
    expect(firstProblem(v).pos).toBeLessThanOrEqual(33);
  });

  it('a truncated tail is found against the last signed checkpoint', async () => {
    const v = await tamperAndVerify(async (ds) => {
      await ds.query(
        'DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_chain WHERE pos >= 50)',
      );
      await ds.query('DELETE FROM audit_chain WHERE pos >= 50');
    });
    expect(firstProblem(v)).toMatchObject({ pos: 50, kind: 'tail_truncated' });
  });

  it('a forged checkpoint (other key, or edited) is found', async () => {
    const other = generateKeyPairSync('ed25519');
    const forgedKey = { privateKey: other.privateKey, keyId: key.keyId };
    const v = await tamperAndVerify(async (ds) => {
      const [row] = await ds.query(
        `SELECT encode(hash, 'hex') AS hash FROM audit_chain WHERE pos = 30`,
      );
      await new AuditChainRepository(sqlOf(ds)).insertCheckpoint(
        signCheckpoint(forgedKey, 30, row.hash),
      );
    });
    expect(firstProblem(v)).toMatchObject({ pos: 30, kind: 'checkpoint_forged' });
    const w = await tamperAndVerify(async (ds) =>
      ds.query(
        `UPDATE audit_checkpoints SET hash = decode(repeat('11', 32), 'hex') WHERE pos = (SELECT min(pos) FROM audit_checkpoints)`,
      ),
    );
    expect(firstProblem(w).kind).toBe('checkpoint_forged');
    expect(keyIdOf(other.publicKey)).not.toBe(key.keyId);
  });

  it('verification with the wrong public key fails on every checkpoint (key not trusted)', async () => {
    const stranger = generateSigningKey(`${tempKey().dir}/other.pem`);
    const ds = await openDataSource(base.url);
    try {
      const v = await verifyDatabaseChain(sqlOf(ds), stranger.publicKey);
      expect(v.ok).toBe(false);
      expect(v.problems.every((p) => p.kind === 'key_unknown')).toBe(true);
    } finally {
      await ds.destroy();
    }
  });
});

/** What an attacker without the key can do: recompute every link from `fromPos` on. */
async function rechain(ds: DataSource, fromPos: number): Promise<void> {
  const repo = new AuditChainRepository(sqlOf(ds));
  const [prev] = await ds.query(
    `SELECT encode(hash, 'hex') AS hash FROM audit_chain WHERE pos = $1`,
    [fromPos - 1],
  );
  let hash: string = prev.hash;
  const links = await repo.links(fromPos - 1, 1_000);
  for (const link of links) {
    const leaf = leafHash(link.pos, link.record!);
    hash = linkHash(hash, leaf);
    await ds.query(
      `UPDATE audit_chain SET leaf_hash = decode($2, 'hex'), hash = decode($3, 'hex') WHERE pos = $1`,
      [link.pos, leaf, hash],
    );
  }
}
