import { canonicalJson, jsonString } from '@enclave/audit';
import {
  type EventCheck,
  leafHashOfTokens,
  linkHash,
  payloadIntact,
  payloadTextIntact,
} from '../chain.js';
import {
  type ExportedEvent,
  type ExportManifest,
  lineTokens,
  matchesFilter,
  readExportedLine,
  unquote,
} from '../export/export-format.js';
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
 * offline verify was mostly copying and collecting those objects. Read back one result at a time
 * (packedResult()), so none outlives its turn.
 */
export interface PackedLines {
  lines: number;
  /** Per result: position (NaN for an unreadable line), line number, flags. */
  nums: Float64Array;
  /**
   * Per result, four: id, chain hash, leaf hash, link hash ('' where none); for an unreadable line
   * its error and three ''.
   */
  text: string[];
}

export function packLines({ lines, results }: ReturnType<typeof checkDataLines>): PackedLines {
  const nums = new Float64Array(results.length * 3);
  const text: string[] = [];
  results.forEach((r, i) => {
    nums[i * 3 + 1] = r.line;
    if ('error' in r) {
      nums[i * 3] = Number.NaN;
      nums[i * 3 + 2] = UNREADABLE;
      text.push(r.error, '', '', '');
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

/** How many results a PackedLines holds. */
export function packedCount(packed: PackedLines): number {
  return packed.nums.length / 3;
}

/** The position of result `i` (NaN for an unreadable line). */
export function packedPos(packed: PackedLines, i: number): number {
  return packed.nums[i * 3]!;
}

/** Result `i` of packLines() undone, its line number moved on by `lineOffset` (earlier blocks' lines). */
export function packedResult(packed: PackedLines, i: number, lineOffset: number): LineResult {
  const { nums, text } = packed;
  const flags = nums[i * 3 + 2]!;
  const line = nums[i * 3 + 1]! + lineOffset;
  const t = i * 4;
  if (flags & UNREADABLE) return { line, error: text[t]! };
  // A link is made from the result before it in the block, if that one has a chain hash.
  const prevHash = i > 0 && !(nums[i * 3 - 1]! & (UNREADABLE | NO_HASH)) ? text[t - 3]! : null;
  return {
    pos: nums[i * 3]!,
    line,
    chainHash: flags & NO_HASH ? null : text[t + 1]!,
    inFilter: (flags & IN_FILTER) !== 0,
    event: {
      id: text[t]!,
      redacted: (flags & REDACTED) !== 0,
      payloadIntact: (flags & INTACT) !== 0,
      leafHash: text[t + 2]!,
      link: flags & LINKED && prevHash ? { prev: prevHash, hash: text[t + 3]! } : null,
    },
  };
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
