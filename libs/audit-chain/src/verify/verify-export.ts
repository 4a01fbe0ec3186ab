import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parse } from 'csv-parse';
import {
  CSV_COLUMNS,
  EXPORT_FORMAT,
  type ExportedEvent,
  type ExportManifest,
  manifestMessage,
} from '../export/export-format.js';
import {
  type CheckedLine,
  checkDataLines,
  checkEvent,
  type LineResult,
  type PackedLines,
  packedCount,
  packedPos,
  packedResult,
  packLines,
} from './export-line-check.js';
import { eachLine, fileLineBlocks, inOrder } from './line-blocks.js';
import { WorkerPool, workerScript } from './worker-pool.js';
import {
  type ChainProblem,
  type ChainVerdict,
  ChainWalker,
  GENESIS_HASH,
  signatureValid,
} from '../chain.js';
import { asKeyring, type VerificationKeys } from '../keyring.js';

interface Line {
  pos: number;
  /** 1-based line number in its file, for messages. */
  line: number;
  /** A data line, checked (checkDataLines). */
  checked?: CheckedLine;
  /** A data line that is not an event: why. */
  unreadable?: string;
  /** A line of the links file. */
  link?: { leaf: string; hash: string; pruned: boolean };
}

/** How verifyExport runs; the defaults suit every caller, the tests use small blocks. */
export interface VerifyExportOptions {
  /**
   * Worker threads checking data lines besides this one; 0 checks them all here. Default: one per
   * core but this one (up to 3), for a data file of WORKERS_FROM_BYTES or more.
   */
  workers?: number;
  /** Bytes of whole lines per block of work (default 256 KiB). */
  blockBytes?: number;
}

const BLOCK_BYTES = 256 << 10;
/**
 * From this size of data file on (~60,000 events), worker threads pay off; below it this thread
 * alone was faster (docs/benchmarks.md, fifth pass: at 10,000 events 0.20 s vs 0.30 s with one).
 */
const WORKERS_FROM_BYTES = 48 << 20;

function toLine(r: LineResult): Line {
  return 'error' in r
    ? { pos: Number.NaN, line: r.line, unreadable: r.error }
    : { pos: r.pos, line: r.line, checked: r };
}

/**
 * Lines of one file in file order, each made into a Line only when it is visited. A whole block's
 * Lines alive at once were alive at every early collection, which taught V8 to allocate them in
 * the old generation (its allocation-site pretenuring): a third of the runs then spent ~0.2 s
 * more in the collector (docs/benchmarks.md, fifth pass).
 */
interface LineBatch {
  length: number;
  /** Line i's position (NaN for a data line that is not an event). */
  pos(i: number): number;
  line(i: number): Line;
}

function batchOf(lines: Line[]): LineBatch {
  return { length: lines.length, pos: (i) => lines[i]!.pos, line: (i) => lines[i]! };
}

function packedBatch(packed: PackedLines, lineOffset: number): LineBatch {
  return {
    length: packedCount(packed),
    pos: (i) => packedPos(packed, i),
    line: (i) => toLine(packedResult(packed, i, lineOffset)),
  };
}

/**
 * The data lines of a JSONL export, checked a block at a time on the worker threads and this one
 * (the hashing is most of an offline verify's work), handed out in order with a few blocks in
 * hand, so memory stays bounded. A CSV export is read row by row on this thread.
 */
async function* dataLines(
  path: string,
  manifest: ExportManifest,
  hash: Hash,
  options: Required<VerifyExportOptions>,
): AsyncGenerator<LineBatch> {
  const { filter } = manifest;
  if (manifest.dataFile.format === 'csv') {
    const input = createReadStream(path);
    input.on('data', (chunk) => hash.update(chunk as Buffer));
    const parser = input.pipe(
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
      try {
        e.payload = JSON.parse(String(row.payload));
        yield batchOf([toLine(checkEvent(e as unknown as ExportedEvent, n, filter))]);
      } catch (err) {
        yield batchOf([toLine({ line: n, error: (err as Error).message })]);
      }
    }
    return;
  }
  const pool =
    options.workers > 0
      ? new WorkerPool<Uint8Array, PackedLines>(
          workerScript('export-line-check.worker'),
          options.workers,
          filter,
        )
      : null;
  let lineOffset = 0;
  try {
    // The lines checked are the bytes whose SHA-256 is compared with the manifest: one read.
    const blocks = fileLineBlocks(path, options.blockBytes, (bytes) => hash.update(bytes));
    for await (const packed of inOrder(blocks, pool, (block) =>
      packLines(checkDataLines(block, filter)),
    )) {
      yield packedBatch(packed, lineOffset);
      lineOffset += packed.lines;
    }
  } finally {
    await pool?.close();
  }
}

/** The lines of the links file, a block at a time, read through `hash` like the data file. */
async function* linkLines(path: string, hash: Hash): AsyncGenerator<LineBatch> {
  let before = 0;
  for (const bytes of fileLineBlocks(path, BLOCK_BYTES, (b) => hash.update(b))) {
    const out: Line[] = [];
    const block = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const first = before;
    before += eachLine(block, (text, n) => {
      if (!text.trim()) return;
      const l = JSON.parse(text) as { pos: number; leaf: string; hash: string; pruned?: boolean };
      out.push({
        pos: l.pos,
        line: first + n,
        link: { leaf: l.leaf, hash: l.hash, pruned: l.pruned === true },
      });
    });
    yield batchOf(out);
  }
}

/** One side of the merge: the current batch of lines, refilled only when it runs out. */
class LineCursor {
  private batch: LineBatch = batchOf([]);
  private i = 0;
  private ended = false;

  constructor(private readonly source: AsyncGenerator<LineBatch>) {}

  /** A line is at hand (after fill()). */
  get any(): boolean {
    return this.i < this.batch.length;
  }

  get pos(): number {
    return this.batch.pos(this.i);
  }

  /** The line at hand, made now; and the cursor moves on. */
  take(): Line {
    return this.batch.line(this.i++);
  }

  /** The batch ran out but the source has more. */
  get needsFill(): boolean {
    return this.i >= this.batch.length && !this.ended;
  }

  async fill(): Promise<void> {
    while (this.needsFill) {
      const r = await this.source.next();
      if (r.done) this.ended = true;
      else [this.batch, this.i] = [r.value, 0];
    }
  }
}

/** Visits the lines of two streams ordered by position (as the exporter wrote them), merged. */
async function byPosition(
  a: AsyncGenerator<LineBatch>,
  b: AsyncGenerator<LineBatch>,
  visit: (line: Line) => void,
): Promise<void> {
  const x = new LineCursor(a);
  const y = new LineCursor(b);
  try {
    for (;;) {
      if (x.needsFill) await x.fill();
      if (y.needsFill) await y.fill();
      if (!x.any && !y.any) return;
      visit(y.any && (!x.any || y.pos < x.pos) ? y.take() : x.take());
    }
  } finally {
    // Ends both readers (their files, the worker threads) however the walk ends.
    await Promise.all([a.return(undefined), b.return(undefined)]);
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
 * filter. Needs the files and the keyring (or one public key), nothing else (no database, no configuration).
 */
export async function verifyExport(
  manifestPath: string,
  verificationKeys: VerificationKeys,
  options: VerifyExportOptions = {},
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
  const keys = asKeyring(verificationKeys);
  const signer = keys.lookup(String(manifest.keyId), String(manifest.createdAt));
  if (!signer.ok) {
    return refused({
      pos: null,
      kind: signer.kind,
      message: `the manifest's signing key is not trusted: ${signer.message}`,
    });
  }
  if (!signatureValid(signer.publicKey, manifestMessage(manifest), manifest.signature)) {
    return refused({
      pos: null,
      kind: 'file_modified',
      message: `the manifest's signature is not valid for key ${manifest.keyId} (manifest edited, or signed by another key)`,
    });
  }
  const { chain } = manifest;
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
  for (const path of [dataPath, linksPath]) {
    if (!existsSync(path)) {
      walker.report(null, 'file_modified', `${path} is missing`);
      return { ...walker.finish(), manifest };
    }
  }
  const blockBytes = options.blockBytes ?? BLOCK_BYTES;
  // This thread is one of the checkers too, so one worker per further core, for a file big enough
  // to repay one: a worker takes ~50 ms to start and runs its first blocks cold.
  const workers =
    options.workers ??
    (statSync(dataPath).size >= WORKERS_FROM_BYTES ? Math.min(3, availableParallelism() - 1) : 0);
  const dataHash = createHash('sha256');
  const linksHash = createHash('sha256');
  let events = 0;
  await byPosition(
    dataLines(dataPath, manifest, dataHash, { workers, blockBytes }),
    linkLines(linksPath, linksHash),
    (l) => {
      if (l.unreadable !== undefined) {
        walker.report(
          null,
          'file_modified',
          `line ${l.line} of ${basename(dataPath)} is not an exported event (${l.unreadable})`,
        );
        return;
      }
      if (!Number.isSafeInteger(l.pos) || l.pos <= chain.fromPos || l.pos > chain.toPos) {
        walker.report(
          l.pos,
          'outside_filter',
          `line ${l.line}: position ${l.pos} is outside the exported range`,
        );
        return;
      }
      if (l.checked) {
        events++;
        const { pos, chainHash, event } = l.checked;
        if (!l.checked.inFilter) {
          walker.report(
            pos,
            'outside_filter',
            `line ${l.line}: event ${event.id} does not match the export's filter`,
          );
        }
        walker.visitChecked({ pos, hash: chainHash, event });
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
    },
  );
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
