export { LlmModule } from './llm.module.js';
export { UpstreamClient, type UpstreamCall } from './upstream.client.js';
export { upstreamError } from './upstream-error.js';
