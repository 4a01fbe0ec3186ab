import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse';
import {
  type AuditRecord,
  type ChainProblem,
  type ChainVerdict,
  ChainWalker,
  GENESIS_HASH,
  signatureValid,
} from '../chain.js';
import {
  CSV_COLUMNS,
  EXPORT_FORMAT,
  type ExportedEvent,
  type ExportManifest,
  manifestMessage,
  matchesFilter,
} from '../export/export-format.js';
import { asKeyring, type VerificationKeys } from '../keyring.js';

/** A line of the data file or the links file, as read. */
type Line =
  | { kind: 'event'; line: number; event: ExportedEvent }
  | { kind: 'link'; line: number; pos: number; leaf: string; hash: string; pruned: boolean }
  | { kind: 'unreadable'; line: number; error: string };

/**
 * The non-blank lines of a file, each with its number; every byte read goes through `hash`.
 * Lines end at "\n" only: not readline, which also ends a line at U+2028 and U+2029, which JSON
 * leaves unescaped inside strings.
 */
async function* textLines(path: string, hash: Hash): AsyncGenerator<[string, number]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let n = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    const lines = (rest + decoder.write(chunk as Buffer)).split('\n');
    rest = lines.pop()!;
    for (const text of lines) {
      n++;
      if (text.trim()) yield [text, n];
    }
  }
  rest += decoder.end();
  if (rest.trim()) yield [rest, n + 1];
}

/** A data line: one JSON object, the event with its position and chain hash (export-format.ts). */
function eventLine(text: string, line: number): Line {
  try {
    const event = JSON.parse(text) as ExportedEvent;
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      return { kind: 'unreadable', line, error: 'not a JSON object' };
    }
    return { kind: 'event', line, event };
  } catch (err) {
    return { kind: 'unreadable', line, error: (err as Error).message };
  }
}

/** The events of the data file, in file order. */
async function* dataLines(path: string, format: string, hash: Hash): AsyncGenerator<Line> {
  if (format !== 'csv') {
    for await (const [text, n] of textLines(path, hash)) yield eventLine(text, n);
    return;
  }
  const input = createReadStream(path);
  input.on('data', (chunk) => hash.update(chunk as Buffer));
  const rows = input.pipe(
    parse({
      columns: true,
      // A null is an empty unquoted field; an empty string is "".
      cast: (value, ctx) => (value === '' && !ctx.quoting ? null : value),
    }),
  );
  let line = 1;
  for await (const row of rows as AsyncIterable<Record<string, string | null>>) {
    line++;
    try {
      const event: Record<string, unknown> = {};
      for (const c of CSV_COLUMNS) event[c] = row[c] ?? null;
      event.pos = Number(row.pos);
      event.payload = JSON.parse(String(row.payload));
      yield { kind: 'event', line, event: event as unknown as ExportedEvent };
    } catch (err) {
      yield { kind: 'unreadable', line, error: (err as Error).message };
    }
  }
}

/** The links file: the positions of the range whose events are not in the data file. */
async function* linkLines(path: string, hash: Hash): AsyncGenerator<Line> {
  for await (const [text, line] of textLines(path, hash)) {
    const l = JSON.parse(text) as { pos: number; leaf: string; hash: string; pruned?: boolean };
    yield { kind: 'link', line, pos: l.pos, leaf: l.leaf, hash: l.hash, pruned: l.pruned === true };
  }
}

const posOf = (l: Line): number =>
  l.kind === 'event' ? l.event.pos : l.kind === 'link' ? l.pos : Number.NaN;

/** The lines of both files in position order (each file is in that order), merged. */
async function* byPosition(a: AsyncGenerator<Line>, b: AsyncGenerator<Line>): AsyncGenerator<Line> {
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    // An unreadable line has no position: it is taken as it comes.
    if (!y.done && (x.done || posOf(y.value) < posOf(x.value))) {
      yield y.value;
      y = await b.next();
    } else if (!x.done) {
      yield x.value;
      x = await a.next();
    }
  }
}

export interface ExportVerdict extends ChainVerdict {
  manifest: ExportManifest | null;
}

function refused(problem: ChainProblem): ExportVerdict {
  return {
    ok: false,
    positions: 0,
    events: 0,
    lastPos: 0,
    lastHash: GENESIS_HASH,
    checkpoints: 0,
    redacted: 0,
    pruned: 0,
    prunedRange: null,
    problems: [problem],
    manifest: null,
  };
}

/** The manifest, if it can be read, is an export manifest and carries a trusted signature. */
function readManifest(
  path: string,
  keys: ReturnType<typeof asKeyring>,
): ExportManifest | ChainProblem {
  let manifest: ExportManifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as ExportManifest;
  } catch (err) {
    const message = `the manifest cannot be read: ${(err as Error).message}`;
    return { pos: null, kind: 'file_modified', message };
  }
  if (manifest.format !== EXPORT_FORMAT) {
    return { pos: null, kind: 'file_modified', message: `not an ${EXPORT_FORMAT} manifest` };
  }
  const signer = keys.lookup(String(manifest.keyId), String(manifest.createdAt));
  if (!signer.ok) {
    const message = `the manifest's signing key is not trusted: ${signer.message}`;
    return { pos: null, kind: signer.kind, message };
  }
  if (!signatureValid(signer.publicKey, manifestMessage(manifest), manifest.signature)) {
    return {
      pos: null,
      kind: 'file_modified',
      message: `the manifest's signature is not valid for key ${manifest.keyId} (manifest edited, or signed by another key)`,
    };
  }
  return manifest;
}

/**
 * Verifies an export offline: the manifest's signature, both files' SHA-256, every event against
 * its chain hash, the chain from the anchoring checkpoint to the covering one, the counts and the
 * filter. Needs the files and the keyring (or one public key), nothing else (no database, no
 * configuration). Each data line is read with JSON.parse (a CSV row with csv-parse) and walked by
 * the same ChainWalker, with the same leaf encoder, as the sealer and the database verifier.
 */
export async function verifyExport(
  manifestPath: string,
  verificationKeys: VerificationKeys,
): Promise<ExportVerdict> {
  const keys = asKeyring(verificationKeys);
  const manifest = readManifest(manifestPath, keys);
  if (!('format' in manifest)) return refused(manifest);
  const { chain, filter } = manifest;
  const walker = new ChainWalker({
    fromPos: chain.fromPos,
    fromHash: chain.fromHash,
    checkpoints: manifest.checkpoints,
    keys,
  });
  const anchored =
    chain.fromPos === 0
      ? chain.fromHash === GENESIS_HASH
      : manifest.checkpoints.some((c) => c.pos === chain.fromPos && c.hash === chain.fromHash);
  if (!anchored) {
    const message = `no signed checkpoint anchors the start (position ${chain.fromPos})`;
    walker.report(chain.fromPos, 'anchor_mismatch', message);
  }
  if (!manifest.checkpoints.some((c) => c.pos === chain.toPos && c.hash === chain.toHash)) {
    const message = `no signed checkpoint covers the end (position ${chain.toPos})`;
    walker.report(chain.toPos, 'anchor_mismatch', message);
  }
  const dir = dirname(manifestPath);
  const dataPath = join(dir, manifest.dataFile.name);
  const linksPath = join(dir, manifest.linksFile.name);
  for (const path of [dataPath, linksPath]) {
    if (!existsSync(path)) {
      walker.report(null, 'file_modified', `${path} is missing`);
      return { ...walker.finish(), manifest };
    }
  }
  const dataHash = createHash('sha256');
  const linksHash = createHash('sha256');
  let events = 0;
  const lines = byPosition(
    dataLines(dataPath, manifest.dataFile.format, dataHash),
    linkLines(linksPath, linksHash),
  );
  for await (const l of lines) {
    if (l.kind === 'unreadable') {
      const message = `line ${l.line} of ${basename(dataPath)} is not an exported event (${l.error})`;
      walker.report(null, 'file_modified', message);
      continue;
    }
    const pos = posOf(l);
    if (!Number.isSafeInteger(pos) || pos <= chain.fromPos || pos > chain.toPos) {
      const message = `line ${l.line}: position ${pos} is outside the exported range`;
      walker.report(pos, 'outside_filter', message);
      continue;
    }
    if (l.kind === 'link') {
      walker.visit({
        pos,
        leafHash: l.leaf,
        hash: l.hash,
        record: null,
        absentByDesign: true,
        pruned: l.pruned,
      });
      continue;
    }
    events++;
    // The line is the event with its position and chain hash; the leaf reads only its own fields.
    const record: AuditRecord = l.event;
    if (!matchesFilter(record, filter)) {
      const message = `line ${l.line}: event ${record.id} does not match the export's filter`;
      walker.report(pos, 'outside_filter', message);
    }
    walker.visit({
      pos,
      leafHash: null,
      hash: typeof l.event.chainHash === 'string' ? l.event.chainHash : null,
      record,
    });
  }
  for (const [path, hash, expected] of [
    [dataPath, dataHash, manifest.dataFile.sha256],
    [linksPath, linksHash, manifest.linksFile.sha256],
  ] as const) {
    if (hash.digest('hex') !== expected) {
      walker.report(null, 'file_modified', `${path} does not match the SHA-256 in the manifest`);
    }
  }
  if (events !== manifest.dataFile.events) {
    walker.report(
      null,
      'file_modified',
      `the data file has ${events} events; the manifest says ${manifest.dataFile.events}`,
    );
  }
  return { ...walker.finish(), manifest };
}
