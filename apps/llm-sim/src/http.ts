import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Plain `node:http` helpers: OpenAI-shaped errors, JSON replies, bounded body reading, timers. */

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
} as const;

export type ErrorType = 'invalid_request_error' | 'server_error' | 'rate_limit_error';

/** The OpenAI error body: `{"error":{"message","type","param","code"}}`. */
export function errorJson(
  message: string,
  type: ErrorType,
  param: string | null = null,
  code: string | null = null,
): string {
  return JSON.stringify({ error: { message, type, param, code } });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  headers?: OutgoingHttpHeaders,
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    ...JSON_HEADERS,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** A client mistake: becomes a 400 (or `status`) with the OpenAI error shape. */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly param: string | null = null,
    readonly status = 400,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export function sendRequestError(res: ServerResponse, err: RequestError): void {
  sendJson(res, err.status, errorJson(err.message, 'invalid_request_error', err.param, err.code));
}

export const TOO_LARGE = Symbol('too large');

/**
 * The whole request body, TOO_LARGE once it passes `limit` bytes (the rest is not buffered), or
 * null when the client went away before sending all of it.
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
): Promise<Buffer | typeof TOO_LARGE | null> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      req.resume();
      resolve(TOO_LARGE);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: Buffer | typeof TOO_LARGE | null): void => {
      if (done) return;
      done = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        finish(TOO_LARGE);
      } else chunks.push(chunk);
    });
    req.on('end', () => finish(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.on('error', () => finish(null));
    req.on('close', () => finish(null));
  });
}

/**
 * One exchange's lifetime: sleeps and waits that end early (resolving false) when the response
 * closes — the client went away, the socket was dropped, or the server is shutting down — so no
 * timer outlives its connection.
 */
export class Exchange {
  closed = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: ((alive: boolean) => void) | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    res.once('close', () => {
      this.closed = true;
      this.settle(false);
    });
  }

  private settle(alive: boolean): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    wake?.(alive);
  }

  /** Resolves true after `ms`, or false as soon as the response closes. */
  sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(() => this.settle(true), ms);
    });
  }

  /** Resolves (false) only when the response closes. */
  untilClosed(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** Resolves true on 'drain', or false when the response closes first. */
  drain(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onDrain = (): void => this.settle(true);
      this.wake = (alive) => {
        this.res.off('drain', onDrain);
        resolve(alive);
      };
      this.res.once('drain', onDrain);
    });
  }
}
