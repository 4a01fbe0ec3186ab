import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';

/** Deeper JSON is refused: no request Enclave serves nests this far, and deep values crash encoders. */
export const MAX_JSON_DEPTH = 64;
/** Array elements plus object members in one body; a chat with a long history has a few thousand. */
export const MAX_JSON_VALUES = 100_000;

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJECT = 123;
const OPEN_ARRAY = 91;
const CLOSE_OBJECT = 125;
const CLOSE_ARRAY = 93;
const COMMA = 44;

/**
 * Request bodies are JSON only (anything else is 415), parsed with limits checked first: nesting
 * depth and number of values are counted in one pass over the text before `JSON.parse` builds
 * anything, so a hostile body costs a scan, not a deep object graph.
 */
export function useJsonBodies(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (
      request: FastifyRequest,
      text: string | Buffer,
      done: (err: Error | null, body?: unknown) => void,
    ) => {
      try {
        refuseUnsupportedEncoding(request);
        done(null, parseJsonBody(text.toString()));
      } catch (err) {
        done(err as Error);
      }
    },
  );
}

function refuseUnsupportedEncoding(request: FastifyRequest): void {
  const encoding = request.headers['content-encoding'];
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(
    request.headers['content-type'] ?? '',
  )?.[1];
  if (
    (encoding && encoding.toLowerCase() !== 'identity') ||
    (charset && !/^utf-?8$/i.test(charset))
  ) {
    throw new ApiError(
      415,
      'unsupported_encoding',
      'Send the request body as uncompressed UTF-8 JSON.',
      { type: 'invalid_request_error' },
    );
  }
}

/** JSON text to a value, or a 400 (`invalid_json`, or `invalid_body` naming the limit passed). */
export function parseJsonBody(text: string): unknown {
  // As Express did: an empty JSON body is an empty object, which the route's schema judges.
  if (text.trim() === '') return {};
  checkShape(text);
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
}

/** Depth and value count of JSON text, skipping over strings (malformed text is JSON.parse's to refuse). */
function checkShape(text: string): void {
  let depth = 0;
  let values = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new ApiError(
          400,
          'invalid_body',
          `The request body nests deeper than ${MAX_JSON_DEPTH} levels; flatten it.`,
        );
      }
      values++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    } else if (c === COMMA && ++values > MAX_JSON_VALUES) {
      throw new ApiError(
        400,
        'invalid_body',
        `The request body holds more than ${MAX_JSON_VALUES} values (array elements and object members); send less per request.`,
      );
    }
  }
  if (text.includes('"__proto__"')) {
    throw new ApiError(400, 'invalid_body', "A key named '__proto__' is not accepted.");
  }
}

/** The index of the quote that ends the string opened at `open` (or the end of the text). */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  while (at !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return text.length;
}
