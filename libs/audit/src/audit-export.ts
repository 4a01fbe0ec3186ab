import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { basename, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { escapeLiteral } from 'pg';
import { AuditChainRepository } from './audit-chain.repository.js';
import { canonicalJson } from './canonical-json.js';
import {
  type Checkpoint,
  ChainWalker,
  GENESIS_HASH,
  leafHashOfTokens,
  payloadIntact,
  signCheckpoint,
  signText,
} from './chain.js';
import {
  CSV_COLUMNS,
  EXPORT_FORMAT,
  type ExportFileFormat,
  type ExportManifest,
  jsonLine,
  type LineTokens,
  manifestMessage,
  unquote,
} from './export-format.js';
import type { SigningKey } from './signing-key.js';
import { walkLinks } from './verify-database.js';
import type { CopyOut, Sql } from './sql.js';

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

const ISO_US = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/**
 * The positions (after, upTo] with their events, one COPY text row each: position, leaf and chain
 * hash (hex), pruned, present, in the filter, then the event's fields as JSON texts (to_json()
 * escapes a string as JSON.stringify does, so each is what jsonString() gives: the texts the leaf
 * is hashed from and the line is written with) and the payload as jsonb text. One index lookup
 * per event (LIMIT 1 keeps the planner from turning it into a join): a hash join and a sort of the
 * whole range measured no faster here, and a short range of a long chain is read without a scan.
 */
function rangeCopySql(after: number, upTo: number, inFilter: string): string {
  const token = (expr: string) => `to_json(${expr})`;
  return `COPY (
    SELECT c.pos, encode(c.leaf_hash, 'hex'), encode(c.hash, 'hex'), c.pruned_at IS NOT NULL,
           e.id IS NOT NULL, ${inFilter},
           ${token('e.id::text')}, ${token(`to_char(e.occurred_at AT TIME ZONE 'UTC', ${ISO_US})`)},
           ${token('e.actor_type')}, ${token('e.actor_id::text')}, ${token('e.actor_label')},
           ${token('e.action')}, ${token('e.target_type')}, ${token('e.target_id')},
           ${token('e.outcome')}, ${token('e.source_ip')}, ${token('e.user_agent')},
           ${token('e.request_id')}, e.payload, ${token(`encode(e.payload_salt, 'hex')`)},
           ${token(`encode(e.payload_hash, 'hex')`)},
           ${token(`to_char(e.redacted_at AT TIME ZONE 'UTC', ${ISO_US})`)}
      FROM audit_chain c
      LEFT JOIN LATERAL (SELECT * FROM audit_events e WHERE e.id = c.event_id LIMIT 1) e ON true
     WHERE c.pos > ${Math.trunc(after)} AND c.pos <= ${Math.trunc(upTo)}
     ORDER BY c.pos) TO STDOUT`;
}

/** A COPY text field: \N is null; backslash escapes (\\, \t, \n, …) are undone. */
function copyField(field: string): string | null {
  if (field === '\\N') return null;
  if (field.indexOf('\\') === -1) return field;
  return field.replace(/\\(.)/g, (_, c: string) => COPY_ESCAPES[c] ?? c);
}
const COPY_ESCAPES: Record<string, string> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** A JSON text field of the COPY row: null when SQL NULL. */
function tokenField(field: string): string {
  return copyField(field) ?? 'null';
}
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
  /** COPY … TO STDOUT on the same database: how the events are read. */
  copyOut: CopyOut;
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
  const inFilter = filterSql(filter);
  const [span] = await opts.sql<{ min: string | null; max: string | null }>(
    `SELECT min(c.pos)::text AS min, max(c.pos)::text AS max
       FROM audit_chain c JOIN audit_events e ON e.id = c.event_id WHERE ${inFilter}`,
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

  const row = (text: string): void => {
    const f = text.split('\t');
    const pos = Number(f[0]);
    const leaf = f[1]!;
    const hash = f[2]!;
    const pruned = f[3] === 't';
    if (f[4] !== 't') {
      walker.visit({ pos, leafHash: leaf, hash, record: null, absentByDesign: pruned, pruned });
      // `pruned` tells the offline verifier that retention removed the event (not the filter).
      links.append(
        `{"pos":${pos},"leaf":"${leaf}","hash":"${hash}"${pruned ? ',"pruned":true' : ''}}\n`,
      );
      linkCount++;
      return;
    }
    const t: LineTokens = {
      id: tokenField(f[6]!),
      occurredAt: tokenField(f[7]!),
      actorType: tokenField(f[8]!),
      actorId: tokenField(f[9]!),
      actorLabel: tokenField(f[10]!),
      action: tokenField(f[11]!),
      targetType: tokenField(f[12]!),
      targetId: tokenField(f[13]!),
      outcome: tokenField(f[14]!),
      sourceIp: tokenField(f[15]!),
      userAgent: tokenField(f[16]!),
      requestId: tokenField(f[17]!),
      payloadSalt: tokenField(f[19]!),
      payloadHash: tokenField(f[20]!),
      redactedAt: tokenField(f[21]!),
    };
    // Canonicalised once: hashed for the check and written as the line's payload.
    const payload = canonicalJson(JSON.parse(copyField(f[18]!) ?? 'null'));
    const leafHash = leafHashOfTokens(pos, t);
    const redactedAt = unquote(t.redactedAt);
    walker.visitChecked({
      pos,
      hash,
      storedLeaf: leaf,
      event: {
        id: unquote(t.id)!,
        redacted: redactedAt !== null,
        payloadIntact: payloadIntact(
          { redactedAt, payloadSalt: unquote(t.payloadSalt), payloadHash: unquote(t.payloadHash)! },
          payload,
        ),
        leafHash,
        link: null,
      },
    });
    if (f[5] !== 't') {
      links.append(`{"pos":${pos},"leaf":"${leaf}","hash":"${hash}"}\n`);
      linkCount++;
      return;
    }
    data.append(
      opts.format === 'csv' ? csvLine(pos, hash, t, payload) : jsonLine(pos, hash, t, payload),
    );
    events++;
    firstEventAt ??= unquote(t.occurredAt);
    lastEventAt = unquote(t.occurredAt);
  };

  // Rows arrive as COPY text: split on \n here (a row never holds a raw newline: COPY escapes it).
  let rest: Buffer | null = null;
  for await (const chunk of opts.copyOut(rangeCopySql(fromPos, cover.pos, inFilter))) {
    const buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let end = buf.indexOf(0x0a); end !== -1; end = buf.indexOf(0x0a, start)) {
      row(buf.toString('utf8', start, end));
      start = end + 1;
    }
    rest = start < buf.length ? buf.subarray(start) : null;
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

/** A CSV row of the same event: each field's value (its JSON text parsed), the payload as JSON text. */
function csvLine(pos: number, chainHash: string, t: LineTokens, payload: string): string {
  const e = { pos, chainHash, ...t, payload } as Record<string, string | number>;
  return stringify(
    [
      CSV_COLUMNS.map((c) =>
        c === 'pos' || c === 'payload'
          ? String(e[c])
          : c === 'chainHash'
            ? chainHash
            : JSON.parse(e[c] as string),
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
