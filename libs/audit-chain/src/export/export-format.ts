import { stringify } from 'csv-stringify/sync';
import { canonicalJson } from '@enclave/audit';
import type { AuditRecord, Checkpoint } from '../chain.js';

/*
 * The export format: what the manifest holds, and a data line: the fields of CSV_COLUMNS in their
 * order, each value in canonical JSON (jsonLine). The offline verifier reads a line back with
 * JSON.parse, so a line rewritten by another JSON tool is judged by its values.
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

/**
 * A JSONL data line: `{"pos":…,"chainHash":…,…}`, each value in canonical JSON; `payloadText` is
 * the payload's canonical text (ChainWalker.visit returns it).
 */
export function jsonLine(e: ExportedEvent, payloadText: string): string {
  let line = '{';
  for (const c of CSV_COLUMNS) {
    line += `${line.length > 1 ? ',' : ''}"${c}":${c === 'payload' ? payloadText : canonicalJson(e[c])}`;
  }
  return `${line}}\n`;
}

/** A CSV row: each field's value (null as an empty field), the payload as canonical JSON text. */
export function csvLine(e: ExportedEvent, payloadText: string): string {
  return stringify([CSV_COLUMNS.map((c) => (c === 'payload' ? payloadText : e[c]))], {
    quoted_string: true,
  });
}
