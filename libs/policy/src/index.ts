export { PolicyModule } from './policy.module.js';
export { PolicyService } from './policy.service.js';
export {
  duration,
  type LimitStanding,
  NO_LIMITS,
  rateLimitHeaders,
  type RateLimitStanding,
} from './rate-limit-headers.js';
export { CountersRepository, type CounterIncrement } from './counters.repository.js';
export { QuotasRepository, type Quota, type QuotaScope } from './quotas.repository.js';
export {
  UsageRepository,
  type UsageRow,
  type UsageFilter,
  type UsageDelta,
} from './usage.repository.js';
export { UsageBuffer } from './usage-buffer.js';
export {
  auditRetentionFor,
  defaultPolicies,
  POLICIES_SETTING_KEY,
  RuntimePolicies,
  RuntimePoliciesService,
} from './runtime-policies.js';
