import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { basename, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { escapeLiteral } from 'pg';
import { AuditChainRepository } from '../audit-chain.repository.js';
import { canonicalJson } from '@enclave/audit';
import { type Checkpoint, ChainWalker, GENESIS_HASH, signCheckpoint, signText } from '../chain.js';
import { CopyBinaryReader, type CopyRow } from './copy-binary.js';
import {
  CSV_COLUMNS,
  EXPORT_FORMAT,
  type ExportedEvent,
  type ExportFileFormat,
  type ExportManifest,
  manifestMessage,
} from './export-format.js';
import {
  COL,
  COLUMN_COUNT,
  lineRoom,
  rangeCopySql,
  rowEvent,
  rowLeafHash,
  rowPayload,
  writeLine,
} from './export-rows.js';
import type { SigningKey } from '../signing-key.js';
import { asKeyring, type Keyring, type VerificationKeys } from '../keyring.js';
import { walkLinks } from '../verify/verify-database.js';
import type { Sql } from '@enclave/db';
import type { CopyOut } from './copy-out.js';

export interface ExportFilter {
  /** Inclusive lower bound of occurred_at. */
  from?: Date | null;
  /** Exclusive upper bound of occurred_at. */
  to?: Date | null;
  actorId?: string | null;
  /** An exact action, or a prefix ending in `.*` (e.g. `auth.*`). */
  action?: string | null;
}

/** ISO with microseconds, comparable as text with stored occurredAt values. */
function microIso(d: Date | null | undefined): string | null {
  return d ? d.toISOString().replace('Z', '000Z') : null;
}

/**
 * The filter as an SQL condition on `e` (audit_events), values as quoted literals: a COPY takes
 * no parameters. An event outside the filter (or absent) makes it false, never null.
 */
function filterSql(f: ExportManifest['filter']): string {
  const clauses = ['e.id IS NOT NULL'];
  if (f.from) clauses.push(`e.occurred_at >= ${escapeLiteral(f.from)}::timestamptz`);
  if (f.to) clauses.push(`e.occurred_at < ${escapeLiteral(f.to)}::timestamptz`);
  if (f.actorId) clauses.push(`e.actor_id = ${escapeLiteral(f.actorId)}::uuid`);
  if (f.action?.endsWith('.*'))
    clauses.push(`starts_with(e.action, ${escapeLiteral(f.action.slice(0, -1))})`);
  else if (f.action) clauses.push(`e.action = ${escapeLiteral(f.action)}`);
  return `coalesce(${clauses.join(' AND ')}, false)`;
}

const CHUNK_BYTES = 1 << 20;

/**
 * An output file and the SHA-256 of what was written to it. Lines are written straight into
 * 1 MiB chunks (as bytes, or encoded as they are made, so no line's string outlives it: a batch
 * built as one long string kept thousands alive across collections, a third of the time in GC).
 * A full chunk is hashed and written while the next fills, and is filled again once on disk:
 * a fresh chunk each time cost more in page faults than its lines took to make.
 */
class HashingFile {
  private readonly out: WriteStream;
  private readonly hash = createHash('sha256');
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private readonly spare: Buffer[] = [];
  private failed: Error | null = null;
  /** Bytes of the current chunk in use: room() returns it, the caller moves this on. */
  used = 0;
  bytes = 0;

  constructor(readonly path: string) {
    // One chunk on its way to disk while the next fills.
    this.out = createWriteStream(path, { mode: 0o640, highWaterMark: 2 * CHUNK_BYTES });
    this.out.on('error', (err) => (this.failed = err));
  }

  append(text: string): void {
    // text.length * 3 bounds its UTF-8 size.
    this.used += this.room(text.length * 3).write(text, this.used);
  }

  /** The chunk to write up to `bytes` more bytes into, from `used` on. */
  room(bytes: number): Buffer {
    if (this.used + bytes > this.chunk.length) {
      this.seal();
      if (bytes > this.chunk.length) this.chunk = Buffer.allocUnsafe(bytes);
    }
    return this.chunk;
  }

  /** Backpressure: waits while the disk is behind. */
  async flush(): Promise<void> {
    if (this.failed) throw this.failed;
    if (this.out.writableNeedDrain) await once(this.out, 'drain');
  }

  private seal(): void {
    if (!this.used) return;
    const chunk = this.chunk;
    const data = chunk.subarray(0, this.used);
    this.hash.update(data);
    this.bytes += data.length;
    this.out.write(data, () => {
      if (chunk.length === CHUNK_BYTES) this.spare.push(chunk);
    });
    this.chunk = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
  }

  async close(): Promise<string> {
    this.seal();
    this.out.end();
    await once(this.out, 'finish');
    if (this.failed) throw this.failed;
    return this.hash.digest('hex');
  }
}

export class ExportRefusedError extends Error {}

/**
 * Writes an export: `<name>.<format>` (the matching events with their chain hashes),
 * `<name>.links.jsonl` (the links of the other positions in the covered range) and
 * `<name>.manifest.json` (counts, range, SHA-256 of both files, the covering checkpoints, signed).
 * Streams the range through one COPY with backpressure on both ends, so memory does not grow with
 * the number of events. Verifies the chain range as it goes and refuses to sign an export of a
 * chain that does not verify.
 */
export async function writeExport(opts: {
  sql: Sql;
  /** COPY … TO STDOUT on the same database: how the events are read. */
  copyOut: CopyOut;
  dir: string;
  name: string;
  format: ExportFileFormat;
  filter: ExportFilter;
  signingKey: SigningKey;
  /** The keys whose checkpoints the chain is checked against (default: the signing key alone). */
  keys?: VerificationKeys;
  createdBy: string;
}): Promise<{ manifestPath: string; manifest: ExportManifest }> {
  const repo = new AuditChainRepository(opts.sql);
  const filter = {
    from: microIso(opts.filter.from),
    to: microIso(opts.filter.to),
    actorId: opts.filter.actorId ?? null,
    action: opts.filter.action ?? null,
  };
  const inFilter = filterSql(filter);
  const span = await eventSpan(opts.sql, filter, inFilter);
  const head = await repo.head();
  const first = span?.min ? Number(span.min) : head.pos;
  const last = span?.max ? Number(span.max) : head.pos;
  const anchor = first > 1 ? await repo.checkpointAtOrBefore(span?.min ? first - 1 : first) : null;
  const fromPos = anchor?.pos ?? 0;
  const fromHash = anchor?.hash ?? GENESIS_HASH;
  let cover = await repo.checkpointAtOrAfter(last);
  const keys = asKeyring(opts.keys ?? opts.signingKey.publicKey);
  if (!cover) cover = await checkpointHead(repo, opts.signingKey, keys);
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
    keys,
  });
  let events = 0;
  let linkCount = 0;
  let firstEventAt: string | null = null;
  let lastEventAt: string | null = null;
  if (opts.format === 'csv') data.append(stringify([CSV_COLUMNS]));

  const onRow = (row: CopyRow): void => {
    const pos = row.int8(COL.pos);
    const leaf = row.hex(COL.leaf)!;
    const hash = row.hex(COL.hash)!;
    if (!row.bool(COL.present)) {
      const pruned = row.bool(COL.pruned);
      walker.visit({ pos, leafHash: leaf, hash, record: null, absentByDesign: pruned, pruned });
      // `pruned` tells the offline verifier that retention removed the event (not the filter).
      links.append(
        `{"pos":${pos},"leaf":"${leaf}","hash":"${hash}"${pruned ? ',"pruned":true' : ''}}\n`,
      );
      linkCount++;
      return;
    }
    const posText = String(pos);
    const payload = rowPayload(row);
    walker.visitChecked({
      pos,
      hash,
      storedLeaf: leaf,
      event: {
        id: row.text(COL.id)!,
        redacted: !row.isNull(COL.redactedAt),
        payloadIntact: payload.intact,
        leafHash: rowLeafHash(row, posText),
        link: null,
      },
    });
    if (!row.bool(COL.inFilter)) {
      links.append(`{"pos":${pos},"leaf":"${leaf}","hash":"${hash}"}\n`);
      linkCount++;
      return;
    }
    if (opts.format === 'csv') {
      data.append(csvLine(rowEvent(row, posText, payload.canonical)));
    } else {
      const to = data.room(lineRoom(row, payload.canonical));
      data.used = writeLine(row, posText, payload.canonical, to, data.used);
    }
    events++;
    lastEventAt = row.text(COL.occurredAt);
    firstEventAt ??= lastEventAt;
  };

  const rows = new CopyBinaryReader(COLUMN_COUNT, onRow);
  for await (const chunk of opts.copyOut(rangeCopySql(fromPos, cover.pos, inFilter))) {
    rows.push(chunk);
    await data.flush();
    await links.flush();
  }
  rows.end();
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
 * The first and last chain positions of the events in the filter (null: none). Without a filter,
 * the first and last links whose event is still there, each found from its end of the chain's
 * index; with one, a join that the planner can drive from the filter's own index (an actor's or
 * an action's events are few; walking the chain for them would read all of it).
 */
async function eventSpan(
  sql: Sql,
  filter: ExportManifest['filter'],
  inFilter: string,
): Promise<{ min: string | null; max: string | null } | undefined> {
  if (!filter.from && !filter.to && !filter.actorId && !filter.action) {
    const end = (order: string) =>
      `(SELECT c.pos FROM audit_chain c
         WHERE EXISTS (SELECT 1 FROM audit_events e WHERE e.id = c.event_id)
         ORDER BY c.pos ${order} LIMIT 1)::text`;
    const [span] = await sql<{ min: string | null; max: string | null }>(
      `SELECT ${end('ASC')} AS min, ${end('DESC')} AS max`,
    );
    return span;
  }
  const [span] = await sql<{ min: string | null; max: string | null }>(
    `SELECT min(c.pos)::text AS min, max(c.pos)::text AS max
       FROM audit_chain c JOIN audit_events e ON e.id = c.event_id WHERE ${inFilter}`,
  );
  return span;
}

/** A CSV row of an event: each field's value (null as an empty field), the payload as JSON text. */
function csvLine(e: ExportedEvent): string {
  return stringify([CSV_COLUMNS.map((c) => (c === 'payload' ? canonicalJson(e.payload) : e[c]))], {
    quoted_string: true,
  });
}

/**
 * Signs a checkpoint of the current head, after checking the links since the last checkpoint,
 * so an export can cover events sealed after it. (A checkpoint is a signed statement of a
 * position and its hash; the sealer's next one simply follows.)
 */
async function checkpointHead(
  repo: AuditChainRepository,
  key: SigningKey,
  keys: Keyring,
): Promise<Checkpoint> {
  const last = await repo.lastCheckpoint();
  const walker = new ChainWalker({
    fromPos: last?.pos ?? 0,
    fromHash: last?.hash ?? GENESIS_HASH,
    checkpoints: last ? [last] : [],
    keys,
  });
  await walkLinks(repo, walker, last?.pos ?? 0, 5_000);
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
