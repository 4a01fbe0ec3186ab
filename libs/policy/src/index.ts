export { PolicyModule } from './policy.module.js';
export {
  duration,
  type LimitStanding,
  NO_LIMITS,
  rateLimitHeaders,
  type RateLimitStanding,
} from './rate-limit-headers.js';
export { PolicyService, type FinishedRequest, type RequestUsage } from './policy.service.js';
export { Entitlements } from './teams/entitlements.js';
export { ModelAccessRepository, type ModelAccessRule } from './teams/model-access.repository.js';
export { PricesRepository, type ModelPrice } from './teams/prices.repository.js';
export {
  BudgetsRepository,
  type Budget,
  type BudgetPeriod,
  type BudgetScope,
  type BudgetUnit,
} from './teams/budgets.repository.js';
export {
  UsageEventsRepository,
  type UsageDimension,
  type UsageEvent,
  type UsageReportFilter,
  type UsageReportRow,
} from './teams/usage-events.repository.js';
export { CountersRepository, type CounterIncrement } from './counters.repository.js';
export { QuotasRepository, type Quota, type QuotaScope } from './quotas.repository.js';
export {
  UsageRepository,
  type UsageRow,
  type UsageFilter,
  type UsageDelta,
} from './usage.repository.js';
export { UsageBuffer } from './usage-buffer.js';
export { pruneUsage, type UsagePruning } from './usage-retention.js';
export {
  auditRetentionFor,
  defaultPolicies,
  POLICIES_SETTING_KEY,
  RuntimePolicies,
  RuntimePoliciesService,
} from './runtime-policies.js';
