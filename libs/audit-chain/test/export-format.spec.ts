import { parse } from 'csv-parse/sync';
import { canonicalJson } from '@enclave/audit';
import { type AuditRecord, CSV_COLUMNS, leafHash, REDACTED_PAYLOAD } from '@enclave/audit-chain';
import { auditRecord } from './audit-record.js';
import { csvLine, type ExportedEvent, jsonLine } from '../src/export/export-format.js';

const CHAIN_HASH = 'c4'.repeat(32);

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

describe('a data line of an export', () => {
  it.each(cases)('%s: the v1 layout, read back by JSON.parse to the same leaf', (_, r) => {
    const pos = 41;
    const exported: ExportedEvent = { pos, chainHash: CHAIN_HASH, ...r };
    const line = jsonLine(exported, canonicalJson(r.payload));
    // The layout every v1 export has: JSON.stringify of the event in the format's column order,
    // the payload in canonical form.
    const v1 = JSON.stringify(
      Object.fromEntries(CSV_COLUMNS.map((c) => [c, c === 'payload' ? 0 : exported[c]])),
    ).replace('"payload":0', `"payload":${canonicalJson(r.payload)}`);
    expect(line).toBe(`${v1}\n`);
    const read = JSON.parse(line) as ExportedEvent;
    expect(read).toEqual(exported);
    expect(leafHash(read.pos, read)).toBe(leafHash(pos, r));
  });

  it.each(cases)('%s: a CSV row reads back to the same values', (_, r) => {
    const exported: ExportedEvent = { pos: 7, chainHash: CHAIN_HASH, ...r };
    const [row] = parse(csvLine(exported, canonicalJson(r.payload)), {
      columns: CSV_COLUMNS as string[],
      cast: (value, ctx) => (value === '' && !ctx.quoting ? null : value),
    }) as Record<string, string | null>[];
    expect({ ...row, pos: Number(row!.pos), payload: JSON.parse(row!.payload!) }).toEqual(exported);
  });
});
