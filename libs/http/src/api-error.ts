import { HttpException } from '@nestjs/common';

/** The `type` field of an OpenAI-style error body; the official SDKs read status, not type. */
export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error';

export interface ApiErrorOptions {
  type?: ApiErrorType;
  param?: string | null;
  /** Response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
}

const TYPE_BY_STATUS: Record<number, ApiErrorType> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'invalid_request_error',
  413: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
};

/**
 * An error a client can act on: an HTTP status, a stable machine-readable `code` that clients and
 * tests match, and a message for a person. Rendered as `{"error":{"message","type","param","code"}}`,
 * OpenAI's shape, on every route.
 */
export class ApiError extends HttpException {
  readonly code: string;
  readonly type: ApiErrorType;
  readonly param: string | null;
  readonly headers: Record<string, string>;
  /** Set once the code that raised it wrote its own audit event, so it is not recorded twice. */
  audited = false;

  constructor(status: number, code: string, message: string, options: ApiErrorOptions = {}) {
    super(message, status);
    this.code = code;
    this.type = options.type ?? TYPE_BY_STATUS[status] ?? 'server_error';
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }

  /** Marks the error as already recorded in the audit trail; returns it for `throw`. */
  markAudited(): this {
    this.audited = true;
    return this;
  }

  toBody() {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }
}
