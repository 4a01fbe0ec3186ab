import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import {
  CSV_COLUMNS,
  EXPORT_FORMAT,
  type ExportedEvent,
  type ExportManifest,
  manifestMessage,
  matchesFilter,
} from './audit-export.js';
import {
  type ChainProblem,
  type ChainVerdict,
  ChainWalker,
  GENESIS_HASH,
  keyIdOf,
  signatureValid,
} from './chain.js';

interface Line {
  pos: number;
  /** 1-based line number in its file, for messages. */
  line: number;
  event?: ExportedEvent;
  link?: { leaf: string; hash: string; pruned: boolean };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function* jsonLines(path: string): AsyncGenerator<[number, unknown]> {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let n = 0;
  for await (const text of rl) {
    n++;
    if (text.trim()) yield [n, JSON.parse(text)];
  }
}

async function* dataLines(path: string, format: string): AsyncGenerator<Line> {
  if (format === 'csv') {
    const parser = createReadStream(path).pipe(
      parse({
        columns: true,
        // A null is an empty unquoted field; an empty string is "".
        cast: (value, ctx) => (value === '' && !ctx.quoting ? null : value),
      }),
    );
    let n = 1;
    for await (const row of parser as AsyncIterable<Record<string, string | null>>) {
      n++;
      const e = Object.fromEntries(CSV_COLUMNS.map((c) => [c, row[c] ?? null])) as Record<
        string,
        unknown
      >;
      e.pos = Number(row.pos);
      e.payload = JSON.parse(String(row.payload));
      yield { pos: e.pos as number, line: n, event: e as unknown as ExportedEvent };
    }
    return;
  }
  for await (const [n, value] of jsonLines(path)) {
    const e = value as ExportedEvent;
    yield { pos: e.pos, line: n, event: e };
  }
}

async function* linkLines(path: string): AsyncGenerator<Line> {
  for await (const [n, value] of jsonLines(path)) {
    const l = value as { pos: number; leaf: string; hash: string; pruned?: boolean };
    yield { pos: l.pos, line: n, link: { leaf: l.leaf, hash: l.hash, pruned: l.pruned === true } };
  }
}

/** Merges two streams ordered by position (as the exporter wrote them). */
async function* byPosition(a: AsyncGenerator<Line>, b: AsyncGenerator<Line>): AsyncGenerator<Line> {
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    if (!y.done && (x.done || y.value.pos < x.value.pos)) {
      yield y.value;
      y = await b.next();
    } else {
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

/**
 * Verifies an export offline: the manifest's signature, both files' SHA-256, every event against
 * its chain hash, the chain from the anchoring checkpoint to the covering one, the counts and the
 * filter. Needs the files and the public key, nothing else (no database, no configuration).
 */
export async function verifyExport(
  manifestPath: string,
  publicKey: KeyObject,
): Promise<ExportVerdict> {
  let manifest: ExportManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ExportManifest;
  } catch (err) {
    return refused({
      pos: null,
      kind: 'file_modified',
      message: `the manifest cannot be read: ${(err as Error).message}`,
    });
  }
  if (manifest.format !== EXPORT_FORMAT) {
    return refused({
      pos: null,
      kind: 'file_modified',
      message: `not an ${EXPORT_FORMAT} manifest`,
    });
  }
  if (
    manifest.keyId !== keyIdOf(publicKey) ||
    !signatureValid(publicKey, manifestMessage(manifest), manifest.signature)
  ) {
    return refused({
      pos: null,
      kind: 'file_modified',
      message: `the manifest's signature is not valid for key ${keyIdOf(publicKey)} (manifest edited, or signed by another key)`,
    });
  }
  const { chain } = manifest;
  const walker = new ChainWalker({
    fromPos: chain.fromPos,
    fromHash: chain.fromHash,
    checkpoints: manifest.checkpoints,
    publicKey,
  });
  const anchored =
    chain.fromPos === 0
      ? chain.fromHash === GENESIS_HASH
      : manifest.checkpoints.some((c) => c.pos === chain.fromPos && c.hash === chain.fromHash);
  if (!anchored)
    walker.report(
      chain.fromPos,
      'anchor_mismatch',
      `no signed checkpoint anchors the start (position ${chain.fromPos})`,
    );
  if (!manifest.checkpoints.some((c) => c.pos === chain.toPos && c.hash === chain.toHash)) {
    walker.report(
      chain.toPos,
      'anchor_mismatch',
      `no signed checkpoint covers the end (position ${chain.toPos})`,
    );
  }
  const dir = dirname(manifestPath);
  const dataPath = join(dir, manifest.dataFile.name);
  const linksPath = join(dir, manifest.linksFile.name);
  for (const [path, expected] of [
    [dataPath, manifest.dataFile.sha256],
    [linksPath, manifest.linksFile.sha256],
  ] as const) {
    if (!existsSync(path)) {
      walker.report(null, 'file_modified', `${path} is missing`);
      return { ...walker.finish(), manifest };
    }
    if ((await sha256File(path)) !== expected) {
      walker.report(null, 'file_modified', `${path} does not match the SHA-256 in the manifest`);
    }
  }
  let events = 0;
  for await (const l of byPosition(
    dataLines(dataPath, manifest.dataFile.format),
    linkLines(linksPath),
  )) {
    if (!Number.isSafeInteger(l.pos) || l.pos <= chain.fromPos || l.pos > chain.toPos) {
      walker.report(
        l.pos,
        'outside_filter',
        `line ${l.line}: position ${l.pos} is outside the exported range`,
      );
      continue;
    }
    if (l.event) {
      events++;
      const { pos, chainHash, ...record } = l.event;
      if (!matchesFilter(record, manifest.filter)) {
        walker.report(
          pos,
          'outside_filter',
          `line ${l.line}: event ${record.id} does not match the export's filter`,
        );
      }
      walker.visit({ pos, leafHash: null, hash: chainHash, record });
    } else {
      walker.visit({
        pos: l.pos,
        leafHash: l.link!.leaf,
        hash: l.link!.hash,
        record: null,
        absentByDesign: true,
        pruned: l.link!.pruned,
      });
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
