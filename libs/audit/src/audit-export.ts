import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { basename, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { AuditChainRepository } from './audit-chain.repository.js';
import { canonicalJson, jsonString } from './canonical-json.js';
import {
  type AuditRecord,
  type Checkpoint,
  ChainWalker,
  GENESIS_HASH,
  signCheckpoint,
  signText,
} from './chain.js';
import type { SigningKey } from './signing-key.js';
import { walkLinks } from './verify-database.js';
import type { Sql } from './sql.js';

export const EXPORT_FORMAT = 'enclave.audit.export/v1';
export type ExportFileFormat = 'jsonl' | 'csv';

export interface ExportFilter {
  /** Inclusive lower bound of occurred_at. */
  from?: Date | null;
  /** Exclusive upper bound of occurred_at. */
  to?: Date | null;
  actorId?: string | null;
  /** An exact action, or a prefix ending in `.*` (e.g. `auth.*`). */
  action?: string | null;
}

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
export function matchesFilter(r: AuditRecord, f: ExportManifest['filter']): boolean {
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

/** ISO with microseconds, comparable as text with stored occurredAt values. */
function microIso(d: Date | null | undefined): string | null {
  return d ? d.toISOString().replace('Z', '000Z') : null;
}

function filterSql(f: ExportManifest['filter']): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (f.from) clauses.push(`e.occurred_at >= $${params.push(f.from)}::timestamptz`);
  if (f.to) clauses.push(`e.occurred_at < $${params.push(f.to)}::timestamptz`);
  if (f.actorId) clauses.push(`e.actor_id = $${params.push(f.actorId)}::uuid`);
  if (f.action?.endsWith('.*'))
    clauses.push(`starts_with(e.action, $${params.push(f.action.slice(0, -1))})`);
  else if (f.action) clauses.push(`e.action = $${params.push(f.action)}`);
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

// Pages of 5,000 links: at 2,000 the export waited on each page's round trip and query start
// (~25% of its wall time at 100,000 events); two pages in memory cost ~25 MB more, still flat.
const BATCH = 5_000;
const CHUNK_BYTES = 1 << 20;

/**
 * An output file and the SHA-256 of what was written to it. Lines are encoded straight into
 * 1 MiB buffers as they are made, so each line's string dies young: a batch built as one long
 * string kept thousands of them alive across collections (a third of the exporter's time was GC).
 */
class HashingFile {
  private readonly out: WriteStream;
  private readonly hash = createHash('sha256');
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private filled: Buffer[] = [];
  bytes = 0;

  constructor(readonly path: string) {
    this.out = createWriteStream(path, { mode: 0o640 });
  }

  append(text: string): void {
    // text.length * 3 bounds its UTF-8 size.
    if (this.used + text.length * 3 > this.chunk.length) {
      this.seal();
      if (text.length * 3 > this.chunk.length) {
        this.filled.push(Buffer.from(text));
        return;
      }
    }
    this.used += this.chunk.write(text, this.used);
  }

  /** Writes what was appended, with backpressure: waits for the disk when its buffer is full. */
  async flush(): Promise<void> {
    this.seal();
    const filled = this.filled;
    this.filled = [];
    for (const chunk of filled) {
      this.hash.update(chunk);
      this.bytes += chunk.length;
      if (!this.out.write(chunk)) await once(this.out, 'drain');
    }
  }

  private seal(): void {
    if (!this.used) return;
    this.filled.push(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
  }

  async close(): Promise<string> {
    await this.flush();
    this.out.end();
    await once(this.out, 'finish');
    return this.hash.digest('hex');
  }
}

export class ExportRefusedError extends Error {}

/**
 * Writes an export: `<name>.<format>` (the matching events with their chain hashes),
 * `<name>.links.jsonl` (the links of the other positions in the covered range) and
 * `<name>.manifest.json` (counts, range, SHA-256 of both files, the covering checkpoints, signed).
 * Streams in keyset batches, so memory does not grow with the number of events. Verifies the chain
 * range as it goes and refuses to sign an export of a chain that does not verify.
 */
export async function writeExport(opts: {
  sql: Sql;
  dir: string;
  name: string;
  format: ExportFileFormat;
  filter: ExportFilter;
  signingKey: SigningKey;
  createdBy: string;
}): Promise<{ manifestPath: string; manifest: ExportManifest }> {
  const repo = new AuditChainRepository(opts.sql);
  const filter = {
    from: microIso(opts.filter.from),
    to: microIso(opts.filter.to),
    actorId: opts.filter.actorId ?? null,
    action: opts.filter.action ?? null,
  };
  const { where, params } = filterSql(filter);
  const [span] = await opts.sql<{ min: string | null; max: string | null }>(
    `SELECT min(c.pos)::text AS min, max(c.pos)::text AS max
       FROM audit_chain c JOIN audit_events e ON e.id = c.event_id ${where}`,
    params,
  );
  const head = await repo.head();
  const first = span?.min ? Number(span.min) : head.pos;
  const last = span?.max ? Number(span.max) : head.pos;
  const anchor = first > 1 ? await repo.checkpointAtOrBefore(span?.min ? first - 1 : first) : null;
  const fromPos = anchor?.pos ?? 0;
  const fromHash = anchor?.hash ?? GENESIS_HASH;
  let cover = await repo.checkpointAtOrAfter(last);
  if (!cover) cover = await checkpointHead(repo, opts.signingKey);
  const checkpoints = [
    ...(anchor ? [anchor] : []),
    ...(await repo.checkpointsBetween(fromPos + 1, cover.pos)),
  ];

  mkdirSync(opts.dir, { recursive: true, mode: 0o750 });
  const dataName = `${opts.name}.${opts.format}`;
  const linksName = `${opts.name}.links.jsonl`;
  const data = new HashingFile(join(opts.dir, `${dataName}.partial`));
  const links = new HashingFile(join(opts.dir, `${linksName}.partial`));
  const walker = new ChainWalker({
    fromPos,
    fromHash,
    checkpoints,
    publicKey: opts.signingKey.publicKey,
  });
  let events = 0;
  let linkCount = 0;
  let firstEventAt: string | null = null;
  let lastEventAt: string | null = null;
  if (opts.format === 'csv') data.append(stringify([CSV_COLUMNS]));
  // The next batch is requested before this one is processed, so Postgres reads it while the
  // walker hashes (at most two batches in memory).
  const page = (after: number) =>
    after < cover.pos ? repo.links(after, BATCH, cover.pos) : Promise.resolve([]);
  for (let next = page(fromPos); ;) {
    const batch = await next;
    if (!batch.length) break;
    next = page(batch[batch.length - 1]!.pos);
    for (const link of batch) {
      const r = link.record;
      const exported = r !== null && matchesFilter(r, filter);
      // Canonicalised once: hashed by the walker and written as the line's payload.
      const canonicalPayload = exported && !r.redactedAt ? canonicalJson(r.payload) : undefined;
      walker.visit({
        pos: link.pos,
        leafHash: link.leafHash,
        hash: link.hash,
        record: r,
        absentByDesign: r === null && link.prunedAt !== null,
        pruned: link.prunedAt !== null,
        canonicalPayload,
      });
      if (exported) {
        data.append(
          opts.format === 'csv'
            ? csvLine({ pos: link.pos, chainHash: link.hash, ...r })
            : jsonLine(link.pos, link.hash, r, canonicalPayload ?? canonicalJson(r.payload)),
        );
        events++;
        firstEventAt ??= r.occurredAt;
        lastEventAt = r.occurredAt;
      } else {
        // `pruned` tells the offline verifier that retention removed the event (not the filter).
        const pruned = r === null && link.prunedAt !== null ? ',"pruned":true' : '';
        links.append(
          `{"pos":${link.pos},"leaf":${JSON.stringify(link.leafHash)},"hash":${JSON.stringify(link.hash)}${pruned}}\n`,
        );
        linkCount++;
      }
    }
    await data.flush();
    await links.flush();
  }
  const verdict = walker.finish();
  const dataSha = await data.close();
  const linksSha = await links.close();
  if (!verdict.ok || verdict.lastPos !== cover.pos) {
    const p = verdict.problems[0];
    throw new ExportRefusedError(
      `the audit chain does not verify${p ? ` at position ${p.pos}: ${p.message}` : ''}; export refused`,
    );
  }
  renameSync(data.path, join(opts.dir, dataName));
  renameSync(links.path, join(opts.dir, linksName));

  const unsigned: Omit<ExportManifest, 'signature'> = {
    format: EXPORT_FORMAT,
    createdAt: new Date().toISOString(),
    createdBy: opts.createdBy,
    filter,
    dataFile: { name: dataName, format: opts.format, sha256: dataSha, bytes: data.bytes, events },
    linksFile: { name: linksName, sha256: linksSha, bytes: links.bytes, links: linkCount },
    firstEventAt,
    lastEventAt,
    chain: { fromPos, fromHash, toPos: cover.pos, toHash: cover.hash },
    checkpoints,
    keyId: opts.signingKey.keyId,
  };
  const manifest: ExportManifest = {
    ...unsigned,
    signature: signText(opts.signingKey.privateKey, manifestMessage(unsigned)),
  };
  const manifestPath = join(opts.dir, `${opts.name}.manifest.json`);
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o640 });
  return { manifestPath, manifest };
}

/**
 * One JSONL line: what JSON.stringify of the ExportedEvent gives, written field by field (hot
 * path: no intermediate object), with the payload as the canonical text already made for hashing.
 */
function jsonLine(pos: number, chainHash: string, r: AuditRecord, payload: string): string {
  return (
    `{"pos":${pos},"chainHash":${jsonString(chainHash)},"id":${jsonString(r.id)},"occurredAt":${jsonString(r.occurredAt)},` +
    `"actorType":${jsonString(r.actorType)},"actorId":${jsonString(r.actorId)},"actorLabel":${jsonString(r.actorLabel)},` +
    `"action":${jsonString(r.action)},"targetType":${jsonString(r.targetType)},"targetId":${jsonString(r.targetId)},` +
    `"outcome":${jsonString(r.outcome)},"sourceIp":${jsonString(r.sourceIp)},"userAgent":${jsonString(r.userAgent)},` +
    `"requestId":${jsonString(r.requestId)},"payload":${payload},"payloadSalt":${jsonString(r.payloadSalt)},` +
    `"payloadHash":${jsonString(r.payloadHash)},"redactedAt":${jsonString(r.redactedAt)}}\n`
  );
}

function csvLine(e: ExportedEvent): string {
  return stringify(
    [
      CSV_COLUMNS.map((c) =>
        c === 'payload' ? JSON.stringify(e.payload) : c === 'pos' ? String(e.pos) : e[c],
      ),
    ],
    { quoted_string: true },
  );
}

/**
 * Signs a checkpoint of the current head, after checking the links since the last checkpoint,
 * so an export can cover events sealed after it. (A checkpoint is a signed statement of a
 * position and its hash; the sealer's next one simply follows.)
 */
async function checkpointHead(repo: AuditChainRepository, key: SigningKey): Promise<Checkpoint> {
  const last = await repo.lastCheckpoint();
  const walker = new ChainWalker({
    fromPos: last?.pos ?? 0,
    fromHash: last?.hash ?? GENESIS_HASH,
    checkpoints: last ? [last] : [],
    publicKey: key.publicKey,
  });
  await walkLinks(repo, walker, last?.pos ?? 0, BATCH);
  const verdict = walker.finish();
  if (!verdict.ok) {
    throw new ExportRefusedError(
      `the audit chain does not verify at position ${verdict.problems[0]!.pos}: ${verdict.problems[0]!.message}; export refused`,
    );
  }
  const cp = signCheckpoint(key, verdict.lastPos, verdict.lastHash);
  await repo.insertCheckpoint(cp);
  return cp;
}

export function exportBaseName(manifestPath: string): string {
  return basename(manifestPath).replace(/\.manifest\.json$/, '');
}
