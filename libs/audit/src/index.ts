export { AuditModule } from './audit.module.js';
export {
  AuditLog,
  SYSTEM_ACTOR,
  type AuditActor,
  type AuditEvent,
  type AuditOutcome,
} from './audit-log.js';
