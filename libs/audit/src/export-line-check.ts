import { canonicalJson, jsonString } from './canonical-json.js';
import {
  type EventCheck,
  leafHashOfTokens,
  linkHash,
  payloadIntact,
  payloadTextIntact,
} from './chain.js';
import {
  type ExportedEvent,
  type ExportManifest,
  lineTokens,
  matchesFilter,
  readExportedLine,
  unquote,
} from './export-format.js';
import { eachLine } from './line-blocks.js';

/** A data line of a JSONL export, checked: what the chain walker needs of it, and no more. */
export interface CheckedLine {
  pos: number;
  /** 1-based line number in the data file, for messages. */
  line: number;
  chainHash: string | null;
  inFilter: boolean;
  event: EventCheck;
}

/** A data line that could not be read as an event at all (not JSON, or fields of the wrong type). */
export interface UnreadableLine {
  line: number;
  error: string;
}

export type LineResult = CheckedLine | UnreadableLine;

/**
 * Checks a block of whole data lines (bytes from one \n to another): each line's payload against its
 * sealed hash, its leaf hash, its place in the filter, and, where the line before it in the block
 * is the previous position, its link from that line's chain hash (which the walker uses when its
 * own previous hash is that one). The CPU-heavy part of an offline verify: it runs on worker
 * threads (export-line-check.worker.ts), a block each, and needs nothing but the text. Lines are
 * numbered from 1 within the block; `lines` counts them all (blank ones too).
 */
export function checkDataLines(
  block: Buffer,
  filter: ExportManifest['filter'],
): { lines: number; results: LineResult[] } {
  const out: LineResult[] = [];
  let prev: CheckedLine | null = null;
  const lines = eachLine(block, (line, n) => {
    if (!line.trim()) return;
    let checked: CheckedLine;
    try {
      checked = checkLine(line, n, filter);
    } catch (err) {
      out.push({ line: n, error: (err as Error).message });
      prev = null;
      return;
    }
    if (prev && prev.pos === checked.pos - 1 && prev.chainHash !== null) {
      checked.event.link = {
        prev: prev.chainHash,
        hash: linkHash(prev.chainHash, checked.event.leafHash),
      };
    }
    out.push(checked);
    prev = checked;
  });
  return { lines, results: out };
}

const INTACT = 1;
const REDACTED = 2;
const IN_FILTER = 4;
const LINKED = 8;
const UNREADABLE = 16;
const NO_HASH = 32;

/**
 * checkDataLines()'s answer in columns (numbers in one typed array, strings in one array), which a
 * worker hands back far more cheaply than an object per line: the reading thread's share of an
 * offline verify was mostly copying and collecting those objects.
 */
export interface PackedLines {
  lines: number;
  /** Per result: position, line number, flags. */
  nums: Float64Array;
  /** Per result: id, chain hash, leaf hash, link hash ('' where none), or the error of an unreadable line. */
  text: string[];
}

export function packLines({ lines, results }: ReturnType<typeof checkDataLines>): PackedLines {
  const nums = new Float64Array(results.length * 3);
  const text: string[] = [];
  results.forEach((r, i) => {
    nums[i * 3 + 1] = r.line;
    if ('error' in r) {
      nums[i * 3 + 2] = UNREADABLE;
      text.push(r.error);
      return;
    }
    const e = r.event;
    nums[i * 3] = r.pos;
    nums[i * 3 + 2] =
      (e.payloadIntact ? INTACT : 0) |
      (e.redacted ? REDACTED : 0) |
      (r.inFilter ? IN_FILTER : 0) |
      (e.link ? LINKED : 0) |
      (r.chainHash === null ? NO_HASH : 0);
    text.push(e.id, r.chainHash ?? '', e.leafHash, e.link?.hash ?? '');
  });
  return { lines, nums, text };
}

/** packLines() undone, with line numbers moved on by `lineOffset` (the lines of earlier blocks). */
export function unpackLines(packed: PackedLines, lineOffset: number): LineResult[] {
  const { nums, text } = packed;
  const out: LineResult[] = [];
  let t = 0;
  let prev: CheckedLine | null = null;
  for (let i = 0; i < nums.length; i += 3) {
    const flags = nums[i + 2]!;
    const line = nums[i + 1]! + lineOffset;
    if (flags & UNREADABLE) {
      out.push({ line, error: text[t++]! });
      prev = null;
      continue;
    }
    const [id, chainHash, leafHash, link] = [text[t]!, text[t + 1]!, text[t + 2]!, text[t + 3]!];
    t += 4;
    const checked: CheckedLine = {
      pos: nums[i]!,
      line,
      chainHash: flags & NO_HASH ? null : chainHash,
      inFilter: (flags & IN_FILTER) !== 0,
      event: {
        id,
        redacted: (flags & REDACTED) !== 0,
        payloadIntact: (flags & INTACT) !== 0,
        leafHash,
        // Made from the line before in the block, which is `prev` here too.
        link: flags & LINKED && prev?.chainHash ? { prev: prev.chainHash, hash: link } : null,
      },
    };
    out.push(checked);
    prev = checked;
  }
  return out;
}

function checkLine(text: string, line: number, filter: ExportManifest['filter']): CheckedLine {
  const read = readExportedLine(text);
  if (read) {
    const t = read.tokens;
    const id = unquote(t.id)!;
    const redactedAt = unquote(t.redactedAt);
    return {
      pos: read.pos,
      line,
      chainHash: read.chainHash,
      inFilter: matchesFilter(
        {
          occurredAt: unquote(t.occurredAt)!,
          actorId: unquote(t.actorId),
          action: unquote(t.action)!,
        },
        filter,
      ),
      event: {
        id,
        redacted: redactedAt !== null,
        payloadIntact: payloadTextIntact(
          { redactedAt, payloadSalt: unquote(t.payloadSalt), payloadHash: unquote(t.payloadHash)! },
          read.payloadText,
        ),
        leafHash: leafHashOfTokens(read.pos, t),
        link: null,
      },
    };
  }
  // Any other text (edited by hand, or a value with escapes): parsed as JSON, checked the same way.
  const e = JSON.parse(text) as ExportedEvent;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new Error('not a JSON object');
  return checkEvent(e, line, filter);
}

/** checkDataLines() of one event read whole (a JSON line the fast reader did not take, a CSV row). */
export function checkEvent(
  e: ExportedEvent,
  line: number,
  filter: ExportManifest['filter'],
): CheckedLine {
  return {
    pos: e.pos,
    line,
    chainHash: typeof e.chainHash === 'string' ? e.chainHash : null,
    inFilter: matchesFilter(e, filter),
    event: {
      id: typeof e.id === 'string' ? e.id : jsonString(e.id),
      redacted: !!e.redactedAt,
      payloadIntact: payloadIntact(e, canonicalJson(e.payload)),
      leafHash: leafHashOfTokens(e.pos, lineTokens(e)),
      link: null,
    },
  };
}
