export { AuditModule } from './audit.module.js';
export {
  AuditLog,
  SYSTEM_ACTOR,
  type AuditActor,
  type AuditEvent,
  type AuditOutcome,
} from './audit-log.js';
export { canonicalJson } from './canonical-json.js';
export {
  GENESIS_HASH,
  ChainWalker,
  checkpointMessage,
  checkpointValid,
  keyIdOf,
  leafHash,
  linkHash,
  payloadHash,
  REDACTED_PAYLOAD,
  sha256Hex,
  signCheckpoint,
  signText,
  signatureValid,
  type AuditRecord,
  type ChainProblem,
  type ChainProblemKind,
  type ChainStep,
  type ChainVerdict,
  type Checkpoint,
  type SignerKeys,
} from './chain.js';
export {
  generateSigningKey,
  loadSigningKey,
  parsePublicKey,
  publicKeyPem,
  type SigningKey,
} from './signing-key.js';
export {
  asKeyring,
  Keyring,
  KEYRING_FORMAT,
  KeyringError,
  localVerificationKeys,
  type KeyLookup,
  type KeyRefusal,
  type KeyringEntry,
  type VerificationKeys,
} from './keyring.js';
export { KeyRotationRefused, rotateSigningKey, type KeyRotation } from './key-rotation.js';
export { AuditChainRepository, type ChainHead } from './audit-chain.repository.js';
export { advisoryLockHolder, type LockHolder } from './advisory-lock-loop.js';
export { SiemCursorRepository } from './siem/siem-cursor.repository.js';
export {
  AuditSealer,
  SEALER_LOCK,
  type QueueStats,
  type SealerLog,
  type SealerOptions,
  type SealerStatus,
} from './audit-sealer.js';
export { verifyDatabaseChain, type DatabaseVerdict } from './verify-database.js';
export { copyOutOf, copyOutOfClient, sqlOf, sqlOfClient, type CopyOut, type Sql } from './sql.js';
export { ExportRefusedError, writeExport, type ExportFilter } from './audit-export.js';
export {
  CSV_COLUMNS,
  EXPORT_FORMAT,
  type ExportFileFormat,
  type ExportManifest,
} from './export-format.js';
export { verifyExport, type ExportVerdict } from './verify-export.js';
export { ExportFilesRepository, type ExportFileKind } from './export-files.repository.js';
export {
  EVENT_HELD,
  holdCoversRecord,
  LegalHolds,
  recordHeld,
  type LegalHold,
  type NewLegalHold,
} from './legal-holds.js';
export { holdsBlockingErasure, redactUserEvents } from './audit-erasure.js';
export {
  pruneAuditEvents,
  type AuditPruning,
  type AuditRetentionRules,
  type RetentionStep,
} from './audit-retention.js';
export {
  SIEM_FORWARDER_LOCK,
  SiemForwarder,
  type SiemForwarderOptions,
  type SiemObserver,
  type SiemReceiver,
  type SiemStatus,
} from './siem/siem-forwarder.js';
export {
  SYSLOG_SD_ID,
  auditSyslogMessage,
  eventJson,
  octetCountingFrame,
} from './siem/syslog-message.js';
