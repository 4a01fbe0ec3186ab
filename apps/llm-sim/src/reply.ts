import { hash } from 'node:crypto';

/**
 * Deterministic content for the simulator: reply words, tool-call arguments and embedding vectors
 * are all derived from a sha256 of the request's relevant text, which seeds a small PRNG. The same
 * input always yields the same output; different inputs yield (practically always) different ones.
 */

/** A fixed vocabulary; lowercase ASCII letters only, so reply text never needs JSON escaping. */
const WORDS: readonly string[] = (
  'the gateway model answer token stream audit access policy record server client ' +
  'request reply context window prompt vector signal packet ledger chain secure ' +
  'local cluster node engine buffer queue latency river mountain forest ocean ' +
  'harbor valley meadow canyon island desert amber silver copper cobalt crimson ' +
  'violet golden ivory indigo scarlet quick quiet steady bright gentle simple ' +
  'careful honest patient clever build check deploy verify measure follow gather ' +
  'return select compute and with from into over under near after before between ' +
  'alpha beta gamma delta omega sigma kappa lambda theta zeta morning evening ' +
  'winter summer autumn spring season moment minute hour paper pencil letter ' +
  'garden kitchen bridge tower street market report summary detail figure table ' +
  'column margin header footer index calm clear plain fair firm warm cool soft'
).split(' ');

/** sfc32: a tiny, fast 32-bit PRNG seeded from 16 bytes. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: Buffer) {
    this.a = seed.readUInt32LE(0);
    this.b = seed.readUInt32LE(4);
    this.c = seed.readUInt32LE(8);
    this.d = seed.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.nextUint32(); // the usual sfc32 warm-up
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }
}

export function sha256(text: string): Buffer {
  return hash('sha256', text, 'buffer');
}

/** The first `count` words of the reply seeded by `digest` (a sha256). */
export function replyWords(digest: Buffer, count: number): string[] {
  const rng = new Prng(digest);
  const words = new Array<string>(count);
  for (let i = 0; i < count; i++) words[i] = WORDS[rng.nextUint32() % WORDS.length];
  return words;
}

/** Same set as the regular expression `\s`, without a regular expression. */
function isSpace(c: number): boolean {
  return (
    (c >= 9 && c <= 13) ||
    c === 32 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * Splits text into stream pieces ("tokens"): a new piece starts at every space, so each piece is
 * one word with its leading space (the first without). Joining the pieces gives the text back.
 */
export function splitPieces(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (let i = 1; i < text.length; i++) {
    if (text.charCodeAt(i) === 32) {
      pieces.push(text.slice(start, i));
      start = i;
    }
  }
  if (start < text.length) pieces.push(text.slice(start));
  return pieces;
}

/** Number of whitespace-separated words, i.e. `text.split(/\s+/).filter(Boolean).length`. */
export function countWords(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    if (isSpace(text.charCodeAt(i))) inWord = false;
    else if (!inWord) {
      inWord = true;
      count++;
    }
  }
  return count;
}

/** Text of a message's `content`: a string, or the `text` of the text parts of an array. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content as unknown[]) {
    if (part !== null && typeof part === 'object') {
      const p = part as { type?: unknown; text?: unknown };
      if (p.type === 'text' && typeof p.text === 'string') text += text ? ' ' + p.text : p.text;
    }
  }
  return text;
}

/** A random float vector of `dimensions` components with unit Euclidean length. */
export function unitVector(digest: Buffer, dimensions: number): Float32Array {
  const rng = new Prng(digest);
  const values = new Float64Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const v = rng.next() * 2 - 1;
    values[i] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  const out = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) out[i] = values[i] / norm;
  return out;
}

/** Little-endian float32 bytes, base64-encoded (the OpenAI `encoding_format: 'base64'`). */
export function float32Base64(vector: Float32Array): string {
  const buf = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buf.writeFloatLE(vector[i], i * 4);
  return buf.toString('base64');
}

interface JsonSchema {
  type?: unknown;
  enum?: unknown;
  properties?: unknown;
  required?: unknown;
}

/** The first non-null type named by a schema's `type` (a string or an array of strings). */
function schemaType(schema: JsonSchema): string | undefined {
  const t = schema.type;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.find((x): x is string => typeof x === 'string' && x !== 'null');
  return undefined;
}

/**
 * A deterministic value for one property schema: its first `enum` value if it has one, else by
 * type — string: `text`, number/integer: 1, boolean: true, anything else: null.
 */
function valueFor(schema: unknown, text: string): unknown {
  if (schema === null || typeof schema !== 'object') return null;
  const s = schema as JsonSchema;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  switch (schemaType(s)) {
    case 'string':
      return text;
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    default:
      return null;
  }
}

/**
 * An object filling properties of a JSON object schema with deterministic values: the `required`
 * ones, or every declared property when `allWhenNoneRequired` and nothing is required.
 */
export function fillObject(
  schema: unknown,
  text: string,
  allWhenNoneRequired = false,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (schema === null || typeof schema !== 'object') return out;
  const s = schema as JsonSchema;
  const props =
    s.properties !== null && typeof s.properties === 'object'
      ? (s.properties as Record<string, unknown>)
      : {};
  let keys = Array.isArray(s.required)
    ? s.required.filter((k): k is string => typeof k === 'string')
    : [];
  if (keys.length === 0 && allWhenNoneRequired) keys = Object.keys(props);
  for (const key of keys) out[key] = valueFor(props[key], text);
  return out;
}
