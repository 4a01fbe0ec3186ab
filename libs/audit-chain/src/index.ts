export {
  GENESIS_HASH,
  ChainWalker,
  checkPayload,
  checkpointMessage,
  checkpointValid,
  keyIdOf,
  leafHash,
  linkHash,
  REDACTED_PAYLOAD,
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
export {
  AuditEventsRepository,
  type AuditEventFilter,
  type ListedAuditEvent,
} from './audit-events.repository.js';
export { checkpointSigners, type CheckpointSigner } from './checkpoint-signers.js';
export { advisoryLockHolder, type LockHolder, type LoopLog } from './advisory-lock-loop.js';
export { SiemCursorRepository } from './siem/siem-cursor.repository.js';
export {
  AuditSealer,
  SEALER_LOCK,
  type QueueStats,
  type SealerOptions,
  type SealerStatus,
} from './sealer/audit-sealer.js';
export { verifyDatabaseChain, type DatabaseVerdict } from './verify/verify-database.js';
export {
  VERIFY_HEARTBEAT_MS,
  VerifyJobsRepository,
  type VerificationVerdict,
  type VerifyJob,
} from './verify/verify-jobs.repository.js';
export { ExportRefusedError, writeExport, type ExportFilter } from './export/audit-export.js';
export {
  CSV_COLUMNS,
  EXPORT_FORMAT,
  type ExportFileFormat,
  type ExportManifest,
} from './export/export-format.js';
export { verifyExport, type ExportVerdict } from './verify/verify-export.js';
export { ExportFilesRepository, type ExportFileKind } from './export/export-files.repository.js';
export { ExportJobsRepository, type ExportJob } from './export/export-jobs.repository.js';
export {
  EVENT_HELD,
  holdCoversRecord,
  LegalHolds,
  recordHeld,
  type LegalHold,
  type NewLegalHold,
} from './holds/legal-holds.js';
export { holdsBlockingErasure, redactUserEvents } from './holds/audit-erasure.js';
export {
  pruneAuditEvents,
  type AuditPruning,
  type AuditRetentionRules,
  type RetentionStep,
} from './holds/audit-retention.js';
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
