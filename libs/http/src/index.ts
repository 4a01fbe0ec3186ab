export { ApiError, type ApiErrorOptions, type ApiErrorType } from './api-error.js';
export {
  ApiErrorFilter,
  toApiError,
  REJECTION_RECORDER,
  type RejectionRecorder,
} from './error.filter.js';
export { Probe, PROBE_ROUTE, Public, PUBLIC_ROUTE } from './public.decorator.js';
export { ZodBody, ZodQuery, type Sendable } from './zod-body.pipe.js';
export { requestMeta, type RequestMeta } from './request-meta.js';
export { MAX_JSON_DEPTH, MAX_JSON_VALUES, parseJsonBody, useJsonBodies } from './json-body.js';
export {
  DatabaseUnavailableError,
  DATABASE_RETRY_AFTER_SECONDS,
  isDatabaseUnavailable,
} from './database-unavailable.js';
export { UuidParam, LineParam } from './uuid-param.pipe.js';
export { isUuid } from '@enclave/contracts';
export { text, line, queryInt, findUnstorable, MAX_BIGINT } from './text.js';
export { encodeCursor, decodeCursor, cursorParam, type PageKey } from './cursor.js';
