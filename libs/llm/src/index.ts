export { LlmModule } from './llm.module.js';
export {
  UpstreamPool,
  type ResponsesAnswer,
  type ResponsesStream,
  type Routed,
} from './upstream-pool.js';
export { BackendsRepository, type BackendRow, type BackendInput } from './backends.repository.js';
export { SecretBox } from './secret-box.js';
export { localError, UpstreamFailure, upstreamError } from './upstream-error.js';
export type { BackendState } from './backend.js';
export { ResponseCache, type CachedAnswer } from './response-cache.js';
