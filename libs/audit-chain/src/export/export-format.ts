import { canonicalJson, jsonString } from '@enclave/audit';
import { type AuditRecord, type Checkpoint, type LeafTokens, leafTokens } from '../chain.js';

/*
 * The export format: what the manifest holds, and the layout of a JSONL data line: the fields of
 * CSV_COLUMNS in their order, as JSON.stringify of an ExportedEvent gives them with the payload's
 * canonical text. The exporter writes it from its rows (export-rows.ts: LINE) and the verifier
 * reads it back (readExportedLine).
 */

export const EXPORT_FORMAT = 'enclave.audit.export/v1';
export type ExportFileFormat = 'jsonl' | 'csv';

/** One line of an export's data file: the event, its position and its chain hash. */
export interface ExportedEvent extends AuditRecord {
  pos: number;
  chainHash: string;
}

/** The columns of a CSV export, in order (payload as JSON text; null as an empty unquoted field). */
export const CSV_COLUMNS: (keyof ExportedEvent)[] = [
  'pos',
  'chainHash',
  'id',
  'occurredAt',
  'actorType',
  'actorId',
  'actorLabel',
  'action',
  'targetType',
  'targetId',
  'outcome',
  'sourceIp',
  'userAgent',
  'requestId',
  'payload',
  'payloadSalt',
  'payloadHash',
  'redactedAt',
];

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  createdAt: string;
  createdBy: string;
  filter: { from: string | null; to: string | null; actorId: string | null; action: string | null };
  dataFile: {
    name: string;
    format: ExportFileFormat;
    sha256: string;
    bytes: number;
    events: number;
  };
  /** Links of the positions in the covered range whose events are not in the data file. */
  linksFile: { name: string; sha256: string; bytes: number; links: number };
  firstEventAt: string | null;
  lastEventAt: string | null;
  /** The chain range covered: after fromPos (anchored by fromHash) up to toPos. */
  chain: { fromPos: number; fromHash: string; toPos: number; toHash: string };
  /** The signed checkpoints at fromPos (unless 0) and toPos and any between. */
  checkpoints: Checkpoint[];
  keyId: string;
  signature: string;
}

export function manifestMessage(m: Omit<ExportManifest, 'signature'> | ExportManifest): string {
  const { signature: _signature, ...unsigned } = m as ExportManifest;
  return canonicalJson(unsigned);
}

/** Whether an event falls within the filter (the same test the SQL makes). */
export function matchesFilter(
  r: Pick<AuditRecord, 'occurredAt' | 'actorId' | 'action'>,
  f: ExportManifest['filter'],
): boolean {
  if (f.from && r.occurredAt < f.from) return false;
  if (f.to && r.occurredAt >= f.to) return false;
  if (f.actorId && r.actorId !== f.actorId) return false;
  if (f.action) {
    if (f.action.endsWith('.*')) {
      if (!r.action.startsWith(f.action.slice(0, -1))) return false;
    } else if (r.action !== f.action) return false;
  }
  return true;
}

/** The fields of a data line but pos, chainHash and payload, as JSON texts (jsonString()). */
export interface LineTokens extends LeafTokens {
  payloadSalt: string;
  redactedAt: string;
}

/** LineTokens of a record: each field through jsonString(). */
export function lineTokens(r: AuditRecord): LineTokens {
  return {
    ...leafTokens(r),
    payloadSalt: jsonString(r.payloadSalt),
    redactedAt: jsonString(r.redactedAt),
  };
}

// A JSON string without escapes or control characters (its value is the text between the
// quotes), or null. The exporter writes every field of a data line but the payload as such
// unless the value itself holds a quote, a backslash or a control character.
const PLAIN = '(null|"[^"\\\\\\x00-\\x1f]*")';
/** The layout the exporter writes, with the payload's text captured whole. */
const EXPORTED_LINE = new RegExp(
  `^\\{"pos":(0|[1-9]\\d{0,14}),${CSV_COLUMNS.slice(1)
    .map((f) => `"${f}":${f === 'payload' ? '(.*)' : PLAIN}`)
    .join(',')}\\}$`,
  's',
);

/** A data line read back: its position, chain hash and fields as JSON texts, its payload's text. */
export interface ReadLine {
  pos: number;
  chainHash: string | null;
  tokens: LineTokens;
  payloadText: string;
}

/**
 * A data line in the exporter's own layout, read without JSON.parse (that was a third of the
 * offline verifier's time): the fields stay the JSON texts they are (plain strings, so each is
 * what jsonString() gives for its value) and the payload stays its text, which is hashed as it
 * stands. Null for any other line (edited by hand, or with escaped strings): parse that as JSON.
 */
export function readExportedLine(text: string): ReadLine | null {
  const m = EXPORTED_LINE.exec(text);
  if (!m) return null;
  return {
    pos: Number(m[1]),
    chainHash: unquote(m[2]!),
    tokens: {
      id: m[3]!,
      occurredAt: m[4]!,
      actorType: m[5]!,
      actorId: m[6]!,
      actorLabel: m[7]!,
      action: m[8]!,
      targetType: m[9]!,
      targetId: m[10]!,
      outcome: m[11]!,
      sourceIp: m[12]!,
      userAgent: m[13]!,
      requestId: m[14]!,
      payloadSalt: m[16]!,
      payloadHash: m[17]!,
      redactedAt: m[18]!,
    },
    payloadText: m[15]!,
  };
}

/** The value of a plain JSON string token (or null). */
export function unquote(token: string): string | null {
  return token === 'null' ? null : token.slice(1, -1);
}
