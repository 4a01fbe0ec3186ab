import { ApiError } from '@enclave/http';
import { errors as undiciErrors } from 'undici';

/** What the model server or the network did wrong; anything else that throws is Enclave's own. */
export class UpstreamFailure extends Error {
  private constructor(
    readonly kind: 'unreachable' | 'http' | 'protocol',
    message: string,
    /** The HTTP status the server answered (kind `http`). */
    readonly status: number | null = null,
    readonly retryAfter: string | null = null,
  ) {
    super(message);
    this.name = 'UpstreamFailure';
  }

  static http(status: number, body: string, retryAfter: string | null): UpstreamFailure {
    return new UpstreamFailure('http', serverMessage(body) ?? `HTTP ${status}`, status, retryAfter);
  }

  /** The server's answer is not what the OpenAI API promises (bad JSON, an error event). */
  static protocol(message: string): UpstreamFailure {
    return new UpstreamFailure('protocol', message);
  }

  /**
   * An error thrown while talking to the server: a network or HTTP client error becomes an
   * UpstreamFailure; an argument the client refused is a bug in Enclave and stays as it is.
   */
  static from(err: unknown): unknown {
    if (err instanceof UpstreamFailure) return err;
    if (err instanceof undiciErrors.InvalidArgumentError) return err;
    if (err instanceof undiciErrors.UndiciError || isSystemNetworkError(err)) {
      return new UpstreamFailure('unreachable', (err as Error).message);
    }
    return err;
  }
}

/** ECONNREFUSED, ECONNRESET, EPIPE, ENOTFOUND, ETIMEDOUT, EHOSTUNREACH and the like. */
function isSystemNetworkError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && 'syscall' in (err as object);
}

/** The `error.message` of an OpenAI-shaped error body, if it is one. */
function serverMessage(body: string): string | null {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } })?.error?.message;
    return typeof message === 'string' ? message.slice(0, 500) : null;
  } catch {
    return null;
  }
}

/**
 * Maps what went wrong talking to the upstream LLM server to the error Enclave's caller gets:
 * 503 when it cannot be reached, 504 when it did not start answering in time, 429 (with
 * Retry-After) when it is rate limiting, 502 for anything else it got wrong. The upstream's own
 * 4xx complaints about the request are passed on as 400, since they are about the caller's input.
 */
export function upstreamError(err: UpstreamFailure | null, timedOut: boolean, upstream: string) {
  if (timedOut || !err) {
    return new ApiError(
      504,
      'upstream_timeout',
      `The model server (${upstream}) did not start answering in time; try again or ask an administrator to check it.`,
      { type: 'server_error' },
    );
  }
  if (err.kind === 'unreachable') {
    return new ApiError(
      503,
      'upstream_unavailable',
      `The model server (${upstream}) cannot be reached; try again later or ask an administrator to check it.`,
      { type: 'server_error' },
    );
  }
  const status = err.status;
  if (status === 429) {
    const retryAfter = err.retryAfter ?? '1';
    return new ApiError(
      429,
      'upstream_rate_limited',
      `The model server (${upstream}) is busy; retry after ${retryAfter} s.`,
      { headers: { 'retry-after': retryAfter } },
    );
  }
  if (status !== null && status >= 400 && status < 500 && status !== 401 && status !== 403) {
    return new ApiError(
      400,
      'upstream_rejected_request',
      `The model server refused the request: ${err.message}`,
    );
  }
  return new ApiError(
    502,
    'upstream_error',
    status === null
      ? `The model server (${upstream}) sent an answer Enclave cannot read; try again or ask an administrator to check it.`
      : `The model server (${upstream}) failed (HTTP ${status}); try again or ask an administrator to check it.`,
    { type: 'server_error' },
  );
}

/**
 * A failure inside Enclave while serving a completion (the body could not be serialised, a bug):
 * never the model server's fault, so never retried or counted against a backend, and no internal
 * text goes to the client. Serialising a request body fails on its shape (nesting too deep for
 * the stack), which is the caller's to fix; anything else is ours.
 */
export function localError(err: unknown, serialising: boolean): ApiError {
  if (serialising && err instanceof RangeError) {
    return new ApiError(
      400,
      'invalid_body',
      'The request body is nested too deeply to be processed; flatten its values and try again.',
    );
  }
  return new ApiError(
    500,
    'internal_error',
    'Enclave failed while handling this request; try again or ask an administrator to check the logs.',
    { type: 'server_error' },
  );
}
