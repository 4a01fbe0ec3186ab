import type { Response } from 'express';
import type { ApiError } from '@enclave/http';

/** Where a streamed completion goes: Server-Sent Events in OpenAI's format. */
export interface SseSink {
  start(headers?: Record<string, string>): void;
  /** Resolves when the chunk is handed on (waits for the client to drain a full buffer). */
  send(data: unknown): Promise<void>;
  done(): void;
  /** Ends the stream with an error event, which the OpenAI SDKs raise as an APIError. */
  fail(error: ApiError): void;
}

export class ExpressSse implements SseSink {
  constructor(private readonly res: Response) {}

  start(headers: Record<string, string> = {}): void {
    this.res.status(200).set({
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // nginx must pass tokens on as they come.
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders();
  }

  send(data: unknown): Promise<void> {
    if (this.res.destroyed || this.res.write(`data: ${JSON.stringify(data)}\n\n`)) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  done(): void {
    this.res.end('data: [DONE]\n\n');
  }

  fail(error: ApiError): void {
    this.res.end(`data: ${JSON.stringify(error.toBody())}\n\n`);
  }
}

/** An AbortSignal that fires when the client goes away before the response is complete. */
export function abortOnClientClose(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
