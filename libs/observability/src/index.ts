export { HealthModule } from './health.module.js';
export { LoggingModule, requestId } from './logging.module.js';
export { READINESS_CHECKS, ReadinessState, type ReadinessCheck } from './readiness.js';
export {
  type AuditSealerWatch,
  Metrics,
  type RejectionKind,
  type UpstreamOutcome,
} from './metrics.js';
export { MetricsModule } from './metrics.module.js';
export { isLoopback } from './metrics.controller.js';
export { requestMetrics } from './request-metrics.js';
