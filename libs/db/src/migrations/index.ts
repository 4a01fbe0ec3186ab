import { Settings1764201600000 } from './1764201600000-settings.js';
import { Identity1764288000000 } from './1764288000000-identity.js';
import { AuditEvents1764288000001 } from './1764288000001-audit-events.js';
import { Conversations1764288000002 } from './1764288000002-conversations.js';
import { AuditChain1764374400000 } from './1764374400000-audit-chain.js';
import { Backends1764460800000 } from './1764460800000-backends.js';
import { Policy1764460800010 } from './1764460800010-policy.js';
import { ResponseCache1764460800020 } from './1764460800020-response-cache.js';
import { Feedback1764547200000 } from './1764547200000-feedback.js';
import { MessageCacheHit1764633600000 } from './1764633600000-message-cache-hit.js';
import { AuditExports1764633600010 } from './1764633600010-audit-exports.js';
import { AuditRetention1764720000000 } from './1764720000000-audit-retention.js';
import { MessagesPartitions1764720000001 } from './1764720000001-messages-partitions.js';
import { AuditSiemCursor1764806400000 } from './1764806400000-audit-siem-cursor.js';
import { SingleSignOn1764892800000 } from './1764892800000-single-sign-on.js';
import { AuditPayloadText1764979200000 } from './1764979200000-audit-payload-text.js';
import { UptimeRecords1796402736241 } from './1796402736241-uptime-records.js';
import { Custody1796402828657 } from './1796402828657-custody.js';
import { UpstreamBackendHealth1796402861000 } from './1796402861000-upstream-backend-health.js';
import { SecuritySignIn1796403600000 } from './1796403600000-security-sign-in.js';
import { AuditVerifications1796450000000 } from './1796450000000-audit-verifications.js';
import { Teams1796500000000 } from './1796500000000-teams.js';
import { ConversationFeatures1796700000000 } from './1796700000000-conversation-features.js';
import { BackendResponsesApi1796900000001 } from './1796900000001-backend-responses-api.js';
import { StoredResponses1796900000002 } from './1796900000002-stored-responses.js';

/**
 * The one ordered list of migrations, for every lib's tables. A landed migration is never edited:
 * add a new one at the end.
 */
export const MIGRATIONS = [
  Settings1764201600000,
  Identity1764288000000,
  AuditEvents1764288000001,
  Conversations1764288000002,
  AuditChain1764374400000,
  Backends1764460800000,
  Policy1764460800010,
  ResponseCache1764460800020,
  Feedback1764547200000,
  MessageCacheHit1764633600000,
  AuditExports1764633600010,
  AuditRetention1764720000000,
  MessagesPartitions1764720000001,
  AuditSiemCursor1764806400000,
  SingleSignOn1764892800000,
  AuditPayloadText1764979200000,
  UptimeRecords1796402736241,
  Custody1796402828657,
  UpstreamBackendHealth1796402861000,
  SecuritySignIn1796403600000,
  AuditVerifications1796450000000,
  Teams1796500000000,
  ConversationFeatures1796700000000,
  BackendResponsesApi1796900000001,
  StoredResponses1796900000002,
];
