import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { basename, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { escapeLiteral } from 'pg';
import { canonicalJson } from '@enclave/audit';
import type { Sql } from '@enclave/db';
import { AuditChainRepository } from '../audit-chain.repository.js';
import { type Checkpoint, ChainWalker, GENESIS_HASH, signCheckpoint, signText } from '../chain.js';
import { asKeyring, type Keyring, type VerificationKeys } from '../keyring.js';
import type { SigningKey } from '../signing-key.js';
import { linkStep } from '../verify/verify-database.js';
import {
  csvLine,
  CSV_COLUMNS,
  EXPORT_FORMAT,
  type ExportedEvent,
  type ExportFileFormat,
  type ExportManifest,
  jsonLine,
  manifestMessage,
  matchesFilter,
} from './export-format.js';

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

// Links read per query: fewer round trips, memory still flat.
const PAGE = 5_000;

/**
 * An output file and the SHA-256 of what was written to it. Lines are written one by one (a page
 * of lines built into one string kept them all alive: most of the export's time went to the
 * garbage collector) and go to disk together when the page ends; end() waits while the disk is behind.
 */
class HashingFile {
  private readonly out: WriteStream;
  private readonly hash = createHash('sha256');
  private failed: Error | null = null;
  bytes = 0;

  constructor(readonly path: string) {
    this.out = createWriteStream(path, { mode: 0o640 });
    this.out.on('error', (err) => (this.failed ??= err));
    this.out.cork();
  }

  write(text: string): void {
    const bytes = Buffer.from(text);
    this.hash.update(bytes);
    this.bytes += bytes.length;
    this.out.write(bytes);
  }

  /** The page's lines go to disk; waits while the disk is behind. */
  async endPage(): Promise<void> {
    this.out.uncork();
    if (this.failed) throw this.failed;
    if (this.out.writableNeedDrain) await once(this.out, 'drain');
    this.out.cork();
  }

  async close(): Promise<string> {
    this.out.end();
    await finished(this.out);
    return this.hash.digest('hex');
  }
}

export class ExportRefusedError extends Error {}

/**
 * Writes an export: `<name>.<format>` (the matching events with their chain hashes),
 * `<name>.links.jsonl` (the links of the other positions in the covered range) and
 * `<name>.manifest.json` (counts, range, SHA-256 of both files, the covering checkpoints, signed).
 * Reads the range a page of links at a time and writes with backpressure, so memory does not grow
 * with the number of events. Every position goes through the same ChainWalker as the database
 * verifier, and an export of a chain that does not verify is refused, not signed.
 */
export async function writeExport(opts: {
  sql: Sql;
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
  const filter: ExportManifest['filter'] = {
    from: microIso(opts.filter.from),
    to: microIso(opts.filter.to),
    // A uuid's text is lower case; the filter is compared with it as text (matchesFilter).
    actorId: opts.filter.actorId?.toLowerCase() ?? null,
    action: opts.filter.action ?? null,
  };
  const span = await eventSpan(opts.sql, filter);
  const head = await repo.head();
  const first = span?.min ? Number(span.min) : head.pos;
  const last = span?.max ? Number(span.max) : head.pos;
  const anchor = first > 1 ? await repo.checkpointAtOrBefore(span?.min ? first - 1 : first) : null;
  const fromPos = anchor?.pos ?? 0;
  const fromHash = anchor?.hash ?? GENESIS_HASH;
  const keys = asKeyring(opts.keys ?? opts.signingKey.publicKey);
  const cover =
    (await repo.checkpointAtOrAfter(last)) ?? (await checkpointHead(repo, opts.signingKey, keys));
  const checkpoints = [
    ...(anchor ? [anchor] : []),
    ...(await repo.checkpointsBetween(fromPos + 1, cover.pos)),
  ];

  mkdirSync(opts.dir, { recursive: true, mode: 0o750 });
  const dataName = `${opts.name}.${opts.format}`;
  const linksName = `${opts.name}.links.jsonl`;
  const data = new HashingFile(join(opts.dir, `${dataName}.partial`));
  const links = new HashingFile(join(opts.dir, `${linksName}.partial`));
  const walker = new ChainWalker({ fromPos, fromHash, checkpoints, keys });
  const line = opts.format === 'csv' ? csvLine : jsonLine;
  let events = 0;
  let linkCount = 0;
  let firstEventAt: string | null = null;
  let lastEventAt: string | null = null;
  if (opts.format === 'csv') data.write(stringify([CSV_COLUMNS]));

  for await (const page of repo.pages(fromPos, PAGE, cover.pos)) {
    for (const link of page) {
      const step = linkStep(link);
      const payloadText = walker.visit(step);
      const { pos, record } = link;
      if (record && matchesFilter(record, filter)) {
        const event: ExportedEvent = { ...record, pos, chainHash: link.hash };
        data.write(line(event, payloadText ?? canonicalJson(record.payload)));
        events++;
        firstEventAt ??= record.occurredAt;
        lastEventAt = record.occurredAt;
      } else {
        // `pruned` tells the offline verifier that retention removed the event (not the filter).
        const pruned = step.absentByDesign ? { pruned: true } : {};
        links.write(
          `${JSON.stringify({ pos, leaf: link.leafHash, hash: link.hash, ...pruned })}\n`,
        );
        linkCount++;
      }
    }
    await data.endPage();
    await links.endPage();
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

/** The filter as an SQL condition on `e` (audit_events), values as quoted literals. */
function filterSql(f: ExportManifest['filter']): string {
  const clauses = ['true'];
  if (f.from) clauses.push(`e.occurred_at >= ${escapeLiteral(f.from)}::timestamptz`);
  if (f.to) clauses.push(`e.occurred_at < ${escapeLiteral(f.to)}::timestamptz`);
  if (f.actorId) clauses.push(`e.actor_id = ${escapeLiteral(f.actorId)}::uuid`);
  if (f.action?.endsWith('.*'))
    clauses.push(`starts_with(e.action, ${escapeLiteral(f.action.slice(0, -1))})`);
  else if (f.action) clauses.push(`e.action = ${escapeLiteral(f.action)}`);
  return clauses.join(' AND ');
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
       FROM audit_chain c JOIN audit_events e ON e.id = c.event_id WHERE ${filterSql(filter)}`,
  );
  return span;
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
  for await (const page of repo.pages(last?.pos ?? 0, PAGE)) {
    for (const link of page) walker.visit(linkStep(link));
  }
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
