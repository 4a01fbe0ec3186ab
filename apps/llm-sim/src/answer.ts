import { randomBytes } from 'node:crypto';
import { RequestError } from './http.js';

/**
 * One planned answer of the simulator, whichever endpoint asked (chat or text completions): the
 * non-streamed body, or the bytes of its stream, step by step. simulator.ts adds the timing and
 * the faults.
 */
export interface AnswerPlan {
  stream: boolean;
  /**
   * How many pieces the longest choice has: a stream sends step k (piece k of every choice that
   * has one) at ttft + k/tokensPerSec, and a non-streamed answer waits as long for the whole.
   */
  steps: number;
  /** The non-streamed body. */
  json(created: number): string;
  /** The stream's SSE bytes. */
  writer(created: number): StreamWriter;
}

export interface StreamWriter {
  /** What goes out before the first piece ('' when nothing does). */
  first(): string;
  /** Piece `k` of every choice that has one. */
  step(k: number): string;
  /** The finish chunks, the usage chunk if asked for, and [DONE]. */
  end(): string;
}

let idCounter = 0;
const idPrefix = randomBytes(6).toString('hex');

/** A unique answer id with the endpoint's prefix (`chatcmpl`, `cmpl`). */
export function answerId(prefix: string): string {
  idCounter = (idCounter + 1) % 0x100000000;
  return `${prefix}-${idPrefix}${idCounter.toString(16).padStart(8, '0')}`;
}

/** The `usage` object: completion tokens are the pieces of all choices together. */
export function usageJson(promptTokens: number, completionTokens: number): string {
  return JSON.stringify({
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  });
}

/** `n` of a request: how many choices to answer with (1 when absent). */
export function choiceCount(v: unknown): number {
  if (v === undefined || v === null) return 1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_CHOICES) {
    throw new RequestError(`'n' must be an integer from 1 to ${MAX_CHOICES}`, 'n');
  }
  return v;
}

/** OpenAI's own limit on `n`. */
const MAX_CHOICES = 128;
