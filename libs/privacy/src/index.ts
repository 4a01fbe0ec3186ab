export { eraseUser, type ErasureResult } from './erasure.js';
export {
  applyRetention,
  RETENTION_LOCK,
  type RetentionResult,
  type RetentionRules,
} from './retention.js';
