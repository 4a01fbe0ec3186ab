import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
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

/**
 * Writes the stream to the Node response under Fastify's reply, so each chunk goes out as it
 * comes and a full socket buffer holds the next one back. Headers set earlier on the Node
 * response (security headers, x-request-id) go out with it.
 */
export class ReplySse implements SseSink {
  private readonly res: ServerResponse;

  constructor(private readonly reply: FastifyReply) {
    this.res = reply.raw;
  }

  start(headers: Record<string, string> = {}): void {
    // From here on the response is ours, not Fastify's to send.
    this.reply.hijack();
    this.res.statusCode = 200;
    for (const [name, value] of Object.entries({
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // nginx must pass tokens on as they come.
      'x-accel-buffering': 'no',
    })) {
      this.res.setHeader(name, value);
    }
    this.res.flushHeaders();
  }

  /** `event`: the SSE event name, for APIs that name their events (the Responses API). */
  send(data: unknown, event?: string): Promise<void> {
    const frame = `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
    if (this.res.destroyed || this.res.write(frame)) {
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

  /** Ends the stream with nothing more (the Responses API sends no [DONE]). */
  close(): void {
    this.res.end();
  }

  fail(error: ApiError): void {
    this.res.end(`data: ${JSON.stringify(error.toBody())}\n\n`);
  }
}

/** An AbortSignal that fires when the client goes away before the response is complete. */
export function abortOnClientClose(reply: FastifyReply): AbortSignal {
  const res = reply.raw;
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
