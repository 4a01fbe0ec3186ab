export { ApiError, type ApiErrorOptions, type ApiErrorType } from './api-error.js';
export {
  ApiErrorFilter,
  toApiError,
  REJECTION_RECORDER,
  type RejectionRecorder,
} from './error.filter.js';
export { Public, PUBLIC_ROUTE } from './public.decorator.js';
export { ZodBody, ZodQuery } from './zod-body.pipe.js';
export { requestMeta, type RequestMeta } from './request-meta.js';
export { UuidParam, isUuid } from './uuid-param.pipe.js';
export {
  DatabaseUnavailableError,
  DATABASE_RETRY_AFTER_SECONDS,
  isDatabaseUnavailable,
} from './database-unavailable.js';
