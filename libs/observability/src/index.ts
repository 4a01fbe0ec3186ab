export { HealthModule } from './health.module.js';
export { PeriodicTask, type PeriodicTaskOptions } from './periodic-task.js';
export { createLogger, loggableUrl, NestLogger, redactSecrets, requestId } from './logging.js';
export { READINESS_CHECKS, ReadinessState, type ReadinessCheck } from './readiness.js';
export {
  type AuditSealerWatch,
  Metrics,
  type RejectionKind,
  type UpstreamOutcome,
} from './metrics.js';
export { MetricsModule } from './metrics.module.js';
export { isLoopback } from './metrics.controller.js';
export { installRequestHooks, UNMATCHED_ROUTE } from './request-hooks.js';
