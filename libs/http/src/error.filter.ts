import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Inject,
  Logger,
  Optional,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiError } from './api-error.js';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from './database-unavailable.js';

/** Errors raised by Express's body parser before Nest sees the request. */
interface BodyParserError {
  type: string;
  status: number;
  limit?: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && 'type' in err && 'status' in err;
}

/** Turns anything thrown into an ApiError; unknown errors become a 500 that leaks nothing. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // Nest wraps body-parser's errors in an HttpException with the original as its cause.
  const parserError = err instanceof HttpException ? err.cause : err;
  if (isBodyParserError(parserError)) {
    const err = parserError;
    if (err.type === 'entity.too.large') {
      return new ApiError(
        413,
        'request_too_large',
        `The request body is larger than the ${Math.round((err.limit ?? 0) / 1024 / 1024)} MB this server accepts.`,
      );
    }
    if (err.type === 'entity.parse.failed') {
      return new ApiError(400, 'invalid_json', 'The request body is not valid JSON.');
    }
    if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
      return new ApiError(415, 'unsupported_encoding', 'Send the request body as UTF-8 JSON.');
    }
  }
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
  return new ApiError(
    500,
    'internal_error',
    'Something went wrong on our side; the error was logged.',
    {
      type: 'server_error',
    },
  );
}

/** Records refused and failed requests (the audit trail), given by the app that has one. */
export interface RejectionRecorder {
  record(req: Request, error: ApiError): Promise<void>;
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
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    const apiError = toApiError(err);
    if (apiError.code === 'database_unavailable') {
      this.log.warn({ err, path: req.path }, 'database unavailable');
    } else if (apiError.getStatus() >= 500 && !(err instanceof ApiError)) {
      this.log.error({ err, path: req.path }, 'unhandled error');
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
    if (res.headersSent) {
      // A streamed response already started: the stream's own error event said what happened.
      res.end();
      return;
    }
    res.status(apiError.getStatus()).set(apiError.headers).json(apiError.toBody());
  }
}
