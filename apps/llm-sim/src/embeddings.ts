import { RequestError } from './http.js';
import { countWords, float32Base64, sha256, unitVector } from './reply.js';

/**
 * POST /v1/embeddings: one deterministic unit vector per input, derived from the input text only
 * (a token array counts as the text of its numbers joined by spaces).
 */

export const DEFAULT_DIMENSIONS = 16;
const MAX_DIMENSIONS = 4096;

function isTokenArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((n) => typeof n === 'number' && Number.isInteger(n));
}

/** The inputs as texts, with their token counts (words of a string, length of a token array). */
function inputsOf(input: unknown): { texts: string[]; tokens: number } {
  if (typeof input === 'string') return { texts: [input], tokens: countWords(input) };
  if (Array.isArray(input) && input.length > 0) {
    if (input.every((s) => typeof s === 'string')) {
      let tokens = 0;
      for (const s of input as string[]) tokens += countWords(s);
      return { texts: input as string[], tokens };
    }
    if (isTokenArray(input)) return { texts: [input.join(' ')], tokens: input.length };
    if (input.every(isTokenArray)) {
      let tokens = 0;
      for (const t of input as number[][]) tokens += t.length;
      return { texts: (input as number[][]).map((t) => t.join(' ')), tokens };
    }
  }
  throw new RequestError(
    "'input' must be a string, a non-empty array of strings, or token arrays",
    'input',
  );
}

export function embeddingsJson(body: unknown, defaultModel: string): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new RequestError('The request body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  const { texts, tokens } = inputsOf(b.input);
  const model = typeof b.model === 'string' && b.model ? b.model : defaultModel;

  let dimensions = DEFAULT_DIMENSIONS;
  if (b.dimensions !== undefined && b.dimensions !== null) {
    const d = b.dimensions;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > MAX_DIMENSIONS) {
      throw new RequestError(
        `'dimensions' must be an integer from 1 to ${MAX_DIMENSIONS}`,
        'dimensions',
      );
    }
    dimensions = d;
  }
  const format = b.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    throw new RequestError("'encoding_format' must be 'float' or 'base64'", 'encoding_format');
  }

  const data = texts.map((text, index) => {
    const vector = unitVector(sha256(`embedding\u0000${text}`), dimensions);
    return {
      object: 'embedding',
      index,
      embedding: format === 'base64' ? float32Base64(vector) : Array.from(vector),
    };
  });
  return JSON.stringify({
    object: 'list',
    data,
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}
