export { AuditModule } from './audit.module.js';
export {
  AuditLog,
  SYSTEM_ACTOR,
  type AuditActor,
  type AuditEvent,
  type AuditOutcome,
} from './audit-log.js';
export { canonicalJson } from './canonical-json.js';
export { newPayloadSalt, payloadHash, payloadTextHash, sha256Hex } from './payload-hash.js';
