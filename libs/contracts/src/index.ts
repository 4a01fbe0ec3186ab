// The contract between the servers and the web UIs: zod schemas of request and response bodies
// and the small formats both sides check (ids, API keys, text). Bundled into the browser, so it
// imports zod and nothing else: no Nest, no Node (eslint enforces it). Its package.json says
// `sideEffects: false`, so a UI that imports one helper does not bundle every schema.
export { text, line, queryInt, ONE_LINE } from './text.js';
export { UUID_PATTERN, isUuid } from './ids.js';
export {
  API_KEY_PATTERN,
  API_KEY_PREFIX_PATTERN,
  apiKeyPrefix,
  leadingApiKeyPrefix,
} from './api-key.js';
export { ROLES, Role, isRole } from './roles.js';
export { RuntimePolicies, PolicyChange } from './policies.js';
export * from './auth.js';
export * from './admin.js';
export * from './chat.js';
export * from './chat-features.js';
export * from './teams.js';
