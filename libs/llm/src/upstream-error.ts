import { ApiError } from '@enclave/http';
import OpenAI from 'openai';

/**
 * Maps what went wrong talking to the upstream LLM server to the error Enclave's caller gets:
 * 503 when it cannot be reached, 504 when it did not start answering in time, 429 (with
 * Retry-After) when it is rate limiting, 502 for anything else it got wrong. The upstream's own
 * 4xx complaints about the request are passed on as 400, since they are about the caller's input.
 */
export function upstreamError(err: unknown, timedOut: boolean, upstream: string): ApiError {
  if (timedOut) {
    return new ApiError(
      504,
      'upstream_timeout',
      `The model server (${upstream}) did not start answering in time; try again or ask an administrator to check it.`,
      { type: 'server_error' },
    );
  }
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    if (err.status === 429) {
      const retryAfter = err.headers?.get('retry-after') ?? '1';
      return new ApiError(
        429,
        'upstream_rate_limited',
        `The model server (${upstream}) is busy; retry after ${retryAfter} s.`,
        { headers: { 'retry-after': retryAfter } },
      );
    }
    if (err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 403) {
      return new ApiError(
        400,
        'upstream_rejected_request',
        `The model server refused the request: ${err.message}`,
      );
    }
    return new ApiError(
      502,
      'upstream_error',
      `The model server (${upstream}) failed (HTTP ${err.status}); try again or ask an administrator to check it.`,
      { type: 'server_error' },
    );
  }
  if (err instanceof OpenAI.APIError || isConnectionFailure(err)) {
    return new ApiError(
      503,
      'upstream_unavailable',
      `The model server (${upstream}) cannot be reached; try again later or ask an administrator to check it.`,
      { type: 'server_error' },
    );
  }
  return new ApiError(
    502,
    'upstream_error',
    `The model server (${upstream}) failed: ${String(err)}`,
    {
      type: 'server_error',
    },
  );
}

function isConnectionFailure(err: unknown): boolean {
  const name = (err as { name?: unknown })?.name;
  return name === 'APIConnectionError' || name === 'TypeError';
}
