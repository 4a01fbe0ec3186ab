import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Inject,
  Logger,
  Optional,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.js';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from './database-unavailable.js';

/** An error Fastify raises itself (reading the body, before Nest sees the request). */
interface FastifyError {
  code: string;
  statusCode?: number;
}

function isFastifyError(err: unknown): err is FastifyError {
  const code: unknown = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('FST_');
}

function internalError(): ApiError {
  return new ApiError(
    500,
    'internal_error',
    'Something went wrong on our side; the error was logged.',
    {
      type: 'server_error',
    },
  );
}

/**
 * Turns anything thrown into an ApiError; unknown errors become a 500 that leaks nothing.
 * `maxBodyBytes`, when known, goes into the message of a 413.
 */
export function toApiError(err: unknown, maxBodyBytes?: number): ApiError {
  if (err instanceof ApiError) return err;
  // Nest's adapter wraps Fastify's own 4xx errors in an HttpException with the original as cause.
  const fastifyError = err instanceof HttpException ? err.cause : err;
  if (isFastifyError(fastifyError)) return fromFastifyError(fastifyError, maxBodyBytes);
  if (isDatabaseUnavailable(err)) {
    return new ApiError(
      503,
      'database_unavailable',
      `The database is not reachable right now; nothing was changed. Try again in ${DATABASE_RETRY_AFTER_SECONDS} seconds.`,
      { type: 'server_error', headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) } },
    );
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    if (status === 404) return new ApiError(404, 'not_found', 'No such route.');
    return new ApiError(status, `http_${status}`, err.message);
  }
  return internalError();
}

/** Fastify's own refusals while reading the request, in Enclave's error shape. */
function fromFastifyError(err: FastifyError, maxBodyBytes?: number): ApiError {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = maxBodyBytes ? `the ${Math.round(maxBodyBytes / 1024 / 1024)} MB` : 'what';
    return new ApiError(
      413,
      'request_too_large',
      `The request body is larger than ${limit} this server accepts.`,
    );
  }
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new ApiError(
      415,
      'unsupported_media_type',
      "Send the request body as JSON with 'Content-Type: application/json'.",
      { type: 'invalid_request_error' },
    );
  }
  if (err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return new ApiError(400, 'invalid_body', 'The body is not as long as Content-Length says.');
  }
  const status = err.statusCode ?? 500;
  if (status < 500) return new ApiError(status, `http_${status}`, 'The request was malformed.');
  return internalError();
}

/** Records refused and failed requests (the audit trail), given by the app that has one. */
export interface RejectionRecorder {
  record(req: FastifyRequest, error: ApiError): Promise<void>;
}

export const REJECTION_RECORDER = Symbol('REJECTION_RECORDER');

@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('Errors');

  constructor(
    @Optional() @Inject(REJECTION_RECORDER) private readonly recorder: RejectionRecorder | null,
  ) {}

  async catch(err: unknown, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const req = http.getRequest<FastifyRequest>();
    const apiError = toApiError(err, req.routeOptions?.bodyLimit);
    const path = req.url.split('?')[0];
    if (apiError.code === 'database_unavailable') {
      this.log.warn({ err, reqId: req.id, path }, 'database unavailable');
    } else if (apiError.getStatus() >= 500 && !(err instanceof ApiError)) {
      this.log.error({ err, reqId: req.id, path }, 'unhandled error');
    }
    // With the database away, recording the refusal would only wait for the same outage.
    const recordable = apiError.code !== 'not_found' && apiError.code !== 'database_unavailable';
    if (this.recorder && !apiError.audited && recordable) {
      try {
        await this.recorder.record(req, apiError);
      } catch (recordErr) {
        this.log.error({ err: recordErr }, 'could not record a refused request');
      }
    }
    if (reply.sent || reply.raw.headersSent) {
      // A streamed response already started: the stream's own error event said what happened.
      if (!reply.raw.writableEnded) reply.raw.end();
      return;
    }
    void reply.status(apiError.getStatus()).headers(apiError.headers).send(apiError.toBody());
  }
}
