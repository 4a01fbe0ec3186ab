import { utcText } from '../audit-chain.repository.js';
import { canonicalJson, jsonString, sha256Hex } from '@enclave/audit';
import { payloadIntact, REDACTED_CANONICAL } from '../chain.js';
import type { CopyRow } from './copy-binary.js';
import { CSV_COLUMNS, type ExportedEvent } from './export-format.js';

/*
 * The exporter's rows: one binary COPY row per chain position with its event, and what is made of
 * it as bytes, without turning its fields into strings: the event's leaf text (hashed to check it
 * against the sealed leaf), the payload check, and the JSONL data line (export-format.ts). Byte
 * for byte what leafHash() hashes and JSON.stringify() writes (export-rows.spec.ts compares
 * them); this is the exporter's hot path, which spent most of its time on strings.
 */

/** The COPY's columns: where each sits in a row. */
export const COL = {
  pos: 0,
  leaf: 1,
  hash: 2,
  pruned: 3,
  present: 4,
  inFilter: 5,
  id: 6,
  occurredAt: 7,
  actorType: 8,
  actorId: 9,
  actorLabel: 10,
  action: 11,
  targetType: 12,
  targetId: 13,
  outcome: 14,
  sourceIp: 15,
  userAgent: 16,
  requestId: 17,
  payload: 18,
  payloadSalt: 19,
  payloadHash: 20,
  redactedAt: 21,
} as const;
type Column = keyof typeof COL;
export const COLUMN_COUNT = Object.keys(COL).length;

/**
 * The positions (after, upTo] with their events, as binary COPY rows of the COL columns: the link
 * (position, leaf and chain hash, pruned), whether its event is present and within the filter
 * (`inFilter`, an SQL condition on `e`), and the event's fields as stored: text as text, the
 * payload as its json text, salt and hash as bytes. One index lookup per event (LIMIT 1 keeps the
 * planner from turning it into a join): a hash join and a sort of the whole range measured no
 * faster here, and a short range of a long chain is read without a scan.
 */
export function rangeCopySql(after: number, upTo: number, inFilter: string): string {
  const sql: Record<Column, string> = {
    pos: 'c.pos',
    leaf: 'c.leaf_hash',
    hash: 'c.hash',
    pruned: 'c.pruned_at IS NOT NULL',
    present: 'e.id IS NOT NULL',
    inFilter,
    id: 'e.id::text',
    occurredAt: utcText('e.occurred_at'),
    actorType: 'e.actor_type',
    actorId: 'e.actor_id::text',
    actorLabel: 'e.actor_label',
    action: 'e.action',
    targetType: 'e.target_type',
    targetId: 'e.target_id',
    outcome: 'e.outcome',
    sourceIp: 'e.source_ip',
    userAgent: 'e.user_agent',
    requestId: 'e.request_id',
    payload: 'e.payload',
    payloadSalt: 'e.payload_salt',
    payloadHash: 'e.payload_hash',
    redactedAt: utcText('e.redacted_at'),
  };
  const columns = (Object.keys(COL) as Column[]).sort((a, b) => COL[a] - COL[b]);
  return `COPY (
    SELECT ${columns.map((c) => sql[c]).join(', ')}
      FROM audit_chain c
      LEFT JOIN LATERAL (SELECT * FROM audit_events e WHERE e.id = c.event_id LIMIT 1) e ON true
     WHERE c.pos > ${Math.trunc(after)} AND c.pos <= ${Math.trunc(upTo)}
     ORDER BY c.pos) TO STDOUT (FORMAT binary)`;
}

/**
 * How a field is written: `text` as its JSON string (null for NULL), `hex` as a JSON string of
 * its bytes in hex, `pos` as the position's digits, `payload` as the payload's JSON text.
 */
type Kind = 'text' | 'hex' | 'pos' | 'payload';
interface Field {
  col: number;
  kind: Kind;
}
const text = (c: Column): Field => ({ col: COL[c], kind: 'text' });
const hex = (c: Column): Field => ({ col: COL[c], kind: 'hex' });
const POS: Field = { col: COL.pos, kind: 'pos' };
const PAYLOAD: Field = { col: COL.payload, kind: 'payload' };

/** A flat JSON object as constant byte runs between fields: consts[0] field[0] consts[1] …. */
interface Template {
  consts: Buffer[];
  fields: Field[];
  constBytes: number;
}

/** The template of `{"k1":v1,"k2":v2,…}` + `end`; a value given as a string is a literal JSON text. */
function template(entries: [string, Field | string][], end: string): Template {
  const consts: Buffer[] = [];
  const fields: Field[] = [];
  let run = '{';
  entries.forEach(([key, value], i) => {
    run += `${i ? ',' : ''}"${key}":`;
    if (typeof value === 'string') {
      run += value;
      return;
    }
    consts.push(Buffer.from(run));
    fields.push(value);
    run = '';
  });
  consts.push(Buffer.from(`${run}}${end}`));
  return { consts, fields, constBytes: consts.reduce((n, b) => n + b.length, 0) };
}

/** The leaf as canonicalJson writes it: keys sorted, as leafHashOfTokens() has them. */
const LEAF = template(
  [
    ['action', text('action')],
    ['actorId', text('actorId')],
    ['actorLabel', text('actorLabel')],
    ['actorType', text('actorType')],
    ['id', text('id')],
    ['occurredAt', text('occurredAt')],
    ['outcome', text('outcome')],
    ['payloadHash', hex('payloadHash')],
    ['pos', POS],
    ['requestId', text('requestId')],
    ['sourceIp', text('sourceIp')],
    ['targetId', text('targetId')],
    ['targetType', text('targetType')],
    ['userAgent', text('userAgent')],
    ['v', '1'],
  ],
  '',
);

/** The data line: the export format's columns in order, the payload as its canonical text. */
const LINE = template(
  CSV_COLUMNS.map((c): [string, Field] => {
    if (c === 'pos') return [c, POS];
    if (c === 'chainHash') return [c, hex('hash')];
    if (c === 'payload') return [c, PAYLOAD];
    if (c === 'payloadSalt' || c === 'payloadHash') return [c, hex(c)];
    return [c, text(c)];
  }),
  '\n',
);

const NULL = Buffer.from('null');
// The bytes JSON.stringify escapes in a string: control characters, quote and backslash (UTF-8
// from Postgres holds no lone surrogates, its only other escapes).
const ESCAPED = Uint8Array.from({ length: 256 }, (_, c) =>
  c < 0x20 || c === 0x22 || c === 0x5c ? 1 : 0,
);
const QUOTE = 0x22;

function putBytes(from: Buffer, start: number, end: number, to: Buffer, at: number): number {
  // A loop beats Buffer#copy's set-up for the few bytes of keys and short fields.
  if (end - start > 64) return at + from.copy(to, at, start, end);
  for (let i = start; i < end; i++) to[at++] = from[i]!;
  return at;
}

/** A text field as jsonString() gives it, copied as bytes unless it needs an escape. */
function putText(row: CopyRow, col: number, to: Buffer, at: number): number {
  const n = row.length[col]!;
  if (n < 0) return putBytes(NULL, 0, 4, to, at);
  const from = row.buf;
  let o = at;
  to[o++] = QUOTE;
  for (let i = row.start[col]!, end = i + n; i < end; i++) {
    const c = from[i]!;
    if (ESCAPED[c]) return at + to.write(jsonString(row.text(col)), at);
    to[o++] = c;
  }
  to[o++] = QUOTE;
  return o;
}

/** Writes the template for the row; `room` bytes at `at` must be free (templateRoom()). */
function put(
  t: Template,
  row: CopyRow,
  posText: string,
  payloadText: string | null,
  to: Buffer,
  at: number,
): number {
  const { consts, fields } = t;
  for (let i = 0; i < fields.length; i++) {
    const k = consts[i]!;
    at = putBytes(k, 0, k.length, to, at);
    const { col, kind } = fields[i]!;
    if (kind === 'text') {
      at = putText(row, col, to, at);
    } else if (kind === 'hex') {
      if (row.isNull(col)) {
        at = putBytes(NULL, 0, 4, to, at);
      } else {
        to[at++] = QUOTE;
        at = row.writeHex(col, to, at);
        to[at++] = QUOTE;
      }
    } else if (kind === 'pos') {
      for (let i = 0; i < posText.length; i++) to[at++] = posText.charCodeAt(i);
    } else if (payloadText !== null) {
      at += to.write(payloadText, at);
    } else {
      const s = row.start[col]!;
      at = putBytes(row.buf, s, s + row.length[col]!, to, at);
    }
  }
  const last = consts[fields.length]!;
  return putBytes(last, 0, last.length, to, at);
}

/** Bytes a template may take for a row: escapes make a byte at most six (\u00XX). */
function templateRoom(t: Template, row: CopyRow, payloadText: string | null): number {
  return t.constBytes + row.bytes * 6 + 24 + (payloadText ? payloadText.length * 3 : 0);
}

let scratch = Buffer.allocUnsafe(1 << 16);
function scratchOf(bytes: number): Buffer {
  if (bytes > scratch.length) scratch = Buffer.allocUnsafe(bytes);
  return scratch;
}

/** SHA-256 (hex) of the first `bytes` of `buf` (a plain view: cheaper to make than a Buffer's). */
function sha256Of(buf: Buffer, bytes: number): string {
  return sha256Hex(new Uint8Array(buf.buffer, buf.byteOffset, bytes));
}

/** leafHash(pos, event) of the row's event (hex). */
export function rowLeafHash(row: CopyRow, posText: string): string {
  const to = scratchOf(templateRoom(LEAF, row, null));
  return sha256Of(to, put(LEAF, row, posText, null, to, 0));
}

/**
 * payloadIntact() of the row's event. The payload column holds the canonical text it was hashed
 * as (AuditLog.append), which is hashed as it stands; a payload stored in another form (as jsonb
 * before migration AuditPayloadText) is canonicalised and checked as such, and that canonical
 * text is what the data line gets (`canonical`, else null: the stored text is canonical).
 */
export function rowPayload(row: CopyRow): { intact: boolean; canonical: string | null } {
  const redacted = !row.isNull(COL.redactedAt);
  if (redacted && row.bytesOf(COL.payload).equals(REDACTED_BYTES)) {
    return { intact: true, canonical: null };
  }
  if (!redacted && !row.isNull(COL.payloadSalt)) {
    const to = scratchOf(row.bytes);
    const salt = row.start[COL.payloadSalt]!;
    const payload = row.start[COL.payload]!;
    let end = putBytes(row.buf, salt, salt + row.length[COL.payloadSalt]!, to, 0);
    end = putBytes(row.buf, payload, payload + row.length[COL.payload]!, to, end);
    if (sha256Of(to, end) === row.hex(COL.payloadHash)) return { intact: true, canonical: null };
  }
  const storedText = row.text(COL.payload)!;
  const canonical = canonicalJson(JSON.parse(storedText));
  const intact = payloadIntact(
    {
      redactedAt: redacted ? 'redacted' : null,
      payloadSalt: row.hex(COL.payloadSalt),
      payloadHash: row.hex(COL.payloadHash) ?? '',
    },
    canonical,
  );
  return { intact, canonical: canonical === storedText ? null : canonical };
}
const REDACTED_BYTES = Buffer.from(REDACTED_CANONICAL);

/** Bytes writeLine() may take for the row. */
export function lineRoom(row: CopyRow, payloadText: string | null): number {
  return templateRoom(LINE, row, payloadText);
}

/**
 * Writes the row's JSONL data line (with its newline) into `to` at `at`, with `payloadText` as
 * its payload if given (else the stored text); returns where it ends. lineRoom() bytes must be
 * free there.
 */
export function writeLine(
  row: CopyRow,
  posText: string,
  payloadText: string | null,
  to: Buffer,
  at: number,
): number {
  return put(LINE, row, posText, payloadText, to, at);
}

/** The row's event as its data line holds it (for the CSV export, which writes the values). */
export function rowEvent(row: CopyRow, posText: string, payloadText: string | null): ExportedEvent {
  const to = scratchOf(lineRoom(row, payloadText));
  return JSON.parse(
    to.toString('utf8', 0, writeLine(row, posText, payloadText, to, 0)),
  ) as ExportedEvent;
}
