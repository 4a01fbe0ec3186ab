export { HealthModule } from './health.module.js';
export { LoggingModule, requestId } from './logging.module.js';
export { READINESS_CHECKS, ReadinessState, type ReadinessCheck } from './readiness.js';
