import { canonicalJson } from '@enclave/audit';
import { type AuditRecord, CSV_COLUMNS, leafHash, REDACTED_PAYLOAD } from '@enclave/audit-chain';
import { auditRecord } from './audit-record.js';
import { CopyBinaryReader, CopyFormatError, type CopyRow } from '../src/export/copy-binary.js';
import {
  checkDataLines,
  checkEvent,
  packedCount,
  packedPos,
  packedResult,
  packLines,
} from '../src/verify/export-line-check.js';
import {
  COL,
  COLUMN_COUNT,
  lineRoom,
  rowEvent,
  rowLeafHash,
  rowPayload,
  writeLine,
} from '../src/export/export-rows.js';

/*
 * The exporter's row encoder against the string functions it stands in for: rows are made here
 * in Postgres's binary COPY format, as the exporter's COPY sends them, and read back in chunks.
 */

const CHAIN_HASH = 'c4'.repeat(32);
const NO_FILTER = { from: null, to: null, actorId: null, action: null };
const LEAF = 'ee'.repeat(32);

type Value = Buffer | string | boolean | number | null;

/** One row of the exporter's COPY for `r` at `pos`, as Postgres sends it in binary. */
function copyRow(pos: number, r: AuditRecord, storedPayload = canonicalJson(r.payload)): Buffer {
  const values: Record<keyof typeof COL, Value> = {
    pos,
    leaf: Buffer.from(LEAF, 'hex'),
    hash: Buffer.from(CHAIN_HASH, 'hex'),
    pruned: false,
    present: true,
    inFilter: true,
    id: r.id,
    occurredAt: r.occurredAt,
    actorType: r.actorType,
    actorId: r.actorId,
    actorLabel: r.actorLabel,
    action: r.action,
    targetType: r.targetType,
    targetId: r.targetId,
    outcome: r.outcome,
    sourceIp: r.sourceIp,
    userAgent: r.userAgent,
    requestId: r.requestId,
    payload: storedPayload,
    payloadSalt: r.payloadSalt === null ? null : Buffer.from(r.payloadSalt, 'hex'),
    payloadHash: Buffer.from(r.payloadHash, 'hex'),
    redactedAt: r.redactedAt,
  };
  const fields = (Object.keys(COL) as (keyof typeof COL)[])
    .sort((a, b) => COL[a] - COL[b])
    .map((k) => values[k]);
  const count = Buffer.alloc(2);
  count.writeInt16BE(fields.length);
  return Buffer.concat([count, ...fields.map(field)]);
}

function field(v: Value): Buffer {
  let bytes: Buffer | null;
  if (v === null) bytes = null;
  else if (typeof v === 'boolean') bytes = Buffer.from([v ? 1 : 0]);
  else if (typeof v === 'number') {
    bytes = Buffer.alloc(8);
    bytes.writeBigInt64BE(BigInt(v));
  } else bytes = typeof v === 'string' ? Buffer.from(v) : v;
  const length = Buffer.alloc(4);
  length.writeInt32BE(bytes ? bytes.length : -1);
  return bytes ? Buffer.concat([length, bytes]) : length;
}

const HEADER = Buffer.concat([
  Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
  Buffer.alloc(8), // flags, header extension length
]);
const TRAILER = Buffer.from([0xff, 0xff]);

/** Reads a COPY stream pushed in pieces of `size` bytes; hands each row to `onRow`; counts them. */
function readRows(stream: Buffer, size: number, onRow: (row: CopyRow) => void): number {
  let rows = 0;
  const reader = new CopyBinaryReader(COLUMN_COUNT, (row) => {
    rows++;
    onRow(row);
  });
  for (let at = 0; at < stream.length; at += size) reader.push(stream.subarray(at, at + size));
  reader.end();
  return rows;
}

function line(row: CopyRow, pos: number, payloadText: string | null): string {
  const to = Buffer.alloc(lineRoom(row, payloadText) + 10);
  return to.toString('utf8', 3, writeLine(row, String(pos), payloadText, to, 3));
}

describe('binary COPY rows', () => {
  it('reads every row whole, however the stream is cut into chunks', () => {
    const records = [
      auditRecord(1),
      auditRecord(2, { actorLabel: null }),
      auditRecord(3, { userAgent: 'ü' }),
    ];
    const stream = Buffer.concat([
      HEADER,
      ...records.map((r, i) => copyRow(2 ** 40 + i, r)),
      TRAILER,
    ]);
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const seen: [number, string | null, string | null, boolean][] = [];
      readRows(stream, size, (row) =>
        seen.push([
          row.int8(COL.pos),
          row.text(COL.actorLabel),
          row.hex(COL.payloadSalt),
          row.bool(COL.present),
        ]),
      );
      expect(seen).toEqual(records.map((r, i) => [2 ** 40 + i, r.actorLabel, r.payloadSalt, true]));
    }
  });

  it('refuses a stream that is not a binary COPY, has the wrong columns or stops short', () => {
    expect(() => readRows(Buffer.from('1\t2\n'.repeat(8)), 64, () => {})).toThrow(CopyFormatError);
    const row = copyRow(1, auditRecord(1));
    const wrongCount = Buffer.from(row);
    wrongCount.writeInt16BE(3);
    expect(() => readRows(Buffer.concat([HEADER, wrongCount, TRAILER]), 64, () => {})).toThrow(
      /3 fields, 22 were expected/,
    );
    expect(() => readRows(Buffer.concat([HEADER, row.subarray(0, 40)]), 64, () => {})).toThrow(
      /ended before its end marker/,
    );
  });
});

describe('the exporter row encoder', () => {
  const cases: [string, AuditRecord][] = [
    ['plain fields', auditRecord(1)],
    [
      'null fields',
      auditRecord(2, {
        actorId: null,
        actorLabel: null,
        targetType: null,
        targetId: null,
        sourceIp: null,
        requestId: null,
      }),
    ],
    [
      'values JSON must escape',
      auditRecord(3, {
        actorLabel: 'a "quoted" \\ name\twith\ttabs\nand\u0001control\u007f',
        userAgent: 'Mozilla/5.0 😀 \u2028 é',
        targetId: '\\',
      }),
    ],
    [
      'an erased payload',
      auditRecord(4, {
        payload: REDACTED_PAYLOAD,
        payloadSalt: null,
        redactedAt: '2025-12-01T00:00:00.000000Z',
      }),
    ],
  ];

  it.each(cases)(
    '%s: leaf hash, payload check and data line match the string functions',
    (_, r) => {
      const pos = 41;
      const rows = readRows(Buffer.concat([HEADER, copyRow(pos, r), TRAILER]), 5, (row) => {
        expect(rowLeafHash(row, String(pos))).toBe(leafHash(pos, r));
        expect(rowPayload(row)).toEqual({ intact: true, canonical: null });
        const text = line(row, pos, null);
        const exported = { pos, chainHash: CHAIN_HASH, ...r };
        // JSON.stringify of the event in the format's column order, the payload canonical.
        expect(text).toBe(
          `${JSON.stringify(Object.fromEntries(CSV_COLUMNS.map((c) => [c, c === 'payload' ? 0 : exported[c]])))}\n`.replace(
            '"payload":0',
            `"payload":${canonicalJson(r.payload)}`,
          ),
        );
        expect(rowEvent(row, String(pos), null)).toEqual(exported);
        // The offline verifier reads it back to the event's own hashes.
        expect(checkDataLines(Buffer.from(text), NO_FILTER).results).toEqual([
          {
            pos,
            line: 1,
            chainHash: CHAIN_HASH,
            inFilter: true,
            event: {
              id: r.id,
              redacted: r.redactedAt !== null,
              payloadIntact: true,
              leafHash: leafHash(pos, r),
              link: null,
            },
          },
        ]);
      });
      expect(rows).toBe(1);
    },
  );

  it('a payload stored in another form than canonical (jsonb text) is checked and written canonical', () => {
    const r = auditRecord(5);
    const jsonbText = '{"a": "\u2028😀", "b": {"x": "é\\"\\n", "y": [1, "two", null]}, "n": 5}';
    const rows = readRows(Buffer.concat([HEADER, copyRow(5, r, jsonbText), TRAILER]), 64, (row) => {
      const payload = rowPayload(row);
      expect(payload).toEqual({ intact: true, canonical: canonicalJson(r.payload) });
      expect(JSON.parse(line(row, 5, payload.canonical))).toEqual({
        pos: 5,
        chainHash: CHAIN_HASH,
        ...r,
      });
      expect(line(row, 5, payload.canonical)).toContain(`"payload":${canonicalJson(r.payload)},`);
    });
    expect(rows).toBe(1);
  });

  it('a changed payload, a missing salt or a wrong erasure marker is not intact', () => {
    const r = auditRecord(6);
    const erased = auditRecord(7, { payloadSalt: null, redactedAt: '2025-12-01T00:00:00.000000Z' });
    const stream = Buffer.concat([
      HEADER,
      copyRow(6, r, canonicalJson({ ...(r.payload as object), n: 7 })),
      copyRow(6, { ...r, payloadSalt: null }),
      copyRow(7, erased, '{"redacted":false}'),
      copyRow(7, erased, '{"redacted": true}'),
      TRAILER,
    ]);
    const intact: boolean[] = [];
    readRows(stream, 64, (row) => intact.push(rowPayload(row).intact));
    // The last is the marker in jsonb's spacing: still the marker.
    expect(intact).toEqual([false, false, false, true]);
  });

  it('a changed field changes the leaf hash', () => {
    const r = auditRecord(8);
    const stream = Buffer.concat([
      HEADER,
      copyRow(8, { ...r, actorLabel: 'mallory@example.com' }),
      TRAILER,
    ]);
    const leaves: string[] = [];
    readRows(stream, 64, (row) => leaves.push(rowLeafHash(row, '8')));
    expect(leaves).toHaveLength(1);
    expect(leaves[0]).not.toBe(leafHash(8, r));
  });
});

describe('the offline verifier reading data lines (its fast reader and JSON.parse agree)', () => {
  /** The exporter's line for `r` at `pos`. */
  function exported(pos: number, r: AuditRecord): string {
    let text = '';
    readRows(Buffer.concat([HEADER, copyRow(pos, r), TRAILER]), 64, (row) => {
      text = line(row, pos, null).trimEnd();
    });
    return text;
  }

  const plain = auditRecord(1);
  const withPayloadKeys = auditRecord(2, {
    payload: { a: 1, payloadSalt: ',"payloadSalt":"x"', z: [] },
  });
  const lines: [string, string][] = [
    ['as exported', exported(1, plain)],
    ['payload holding the next key as a key and in a string', exported(2, withPayloadKeys)],
    [
      'an erased payload',
      exported(
        3,
        auditRecord(3, {
          payload: REDACTED_PAYLOAD,
          payloadSalt: null,
          redactedAt: '2025-12-01T00:00:00.000000Z',
        }),
      ),
    ],
    ['a changed field', exported(1, plain).replace('ana@example.com', 'eve@example.com')],
    ['a changed payload value', exported(1, plain).replace('"n":1', '"n":2')],
    [
      'the payload in another key order',
      exported(1, plain)
        .replace('"a":"\u2028😀","b":', '"b":')
        .replace(',"n":1}', ',"n":1,"a":"\u2028😀"}'),
    ],
    ['a leading zero in the position', exported(1, plain).replace('{"pos":1,', '{"pos":01,')],
    [
      'no chain hash',
      exported(1, plain).replace(`"chainHash":"${CHAIN_HASH}"`, '"chainHash":null'),
    ],
    [
      'keys in another order',
      `{"chainHash":"${CHAIN_HASH}",${exported(1, plain).slice(1).replace(`,"chainHash":"${CHAIN_HASH}"`, '')}`,
    ],
    ['an escaped quote in a field', exported(1, auditRecord(1, { actorLabel: 'a "b"' }))],
    // Valid JSON for the same value, but not the text jsonString() writes: judged by its value.
    ['an escape JSON.stringify would not write', exported(1, plain).replace('ana@', 'ana\\u0040')],
    [
      'a salt that is not hex',
      exported(1, plain).replace(`"payloadSalt":"${plain.payloadSalt}"`, '"payloadSalt":"zz"'),
    ],
  ];

  it.each(lines)('%s: the same verdict as the line parsed as JSON', (_, text) => {
    const filters = [
      NO_FILTER,
      { ...NO_FILTER, action: 'auth.*' },
      { ...NO_FILTER, from: '2025-11-28T10:00:00.123457Z' },
    ];
    for (const filter of filters) {
      const [inPlace] = checkDataLines(Buffer.from(`${text}\n`), filter).results;
      let parsed;
      try {
        parsed = checkEvent(JSON.parse(text), 1, filter);
      } catch (err) {
        parsed = { line: 1, error: (err as Error).message };
      }
      expect(inPlace).toEqual(parsed);
    }
  });

  it('a block packed for the reading thread reads back to the same results, links included', () => {
    const hashed = (pos: number, hash: string | null) =>
      exported(pos, auditRecord(pos)).replace(
        /"chainHash":(null|"[0-9a-f]*")/,
        `"chainHash":${JSON.stringify(hash)}`,
      );
    const block = [
      hashed(1, 'a'.repeat(64)),
      hashed(2, 'b'.repeat(64)), // linked to 1
      'not an event',
      hashed(4, 'd'.repeat(64)), // not linked: the line before is unreadable
      hashed(5, null), // linked to 4 (its own chain hash missing)
      '',
      hashed(6, 'f'.repeat(64)), // not linked: 5 has no chain hash
      hashed(7, 'e'.repeat(64)), // linked to 6
    ].join('\n');
    const checked = checkDataLines(Buffer.from(block), NO_FILTER);
    const packed = packLines(checked);
    expect(packed.lines).toBe(8);
    expect(packedCount(packed)).toBe(7);
    const links = checked.results.map((r) => ('event' in r ? r.event.link !== null : null));
    expect(links).toEqual([false, true, null, false, true, false, true]);
    checked.results.forEach((r, i) => {
      expect(packedResult(packed, i, 100)).toEqual({ ...r, line: r.line + 100 });
      expect(packedPos(packed, i)).toBe('pos' in r ? r.pos : Number.NaN);
    });
  });

  it('a line as exported checks out; a changed payload or field does not', () => {
    const check = (text: string) => {
      const [r] = checkDataLines(Buffer.from(text), NO_FILTER).results;
      if (!r || !('event' in r)) throw new Error(`not read: ${text}`);
      return r.event;
    };
    expect(check(exported(1, plain))).toMatchObject({
      payloadIntact: true,
      leafHash: leafHash(1, plain),
    });
    expect(check(exported(2, withPayloadKeys))).toMatchObject({
      payloadIntact: true,
      leafHash: leafHash(2, withPayloadKeys),
    });
    expect(check(lines[4]![1]).payloadIntact).toBe(false);
    expect(check(lines[3]![1]).leafHash).not.toBe(leafHash(1, plain));
  });
});
