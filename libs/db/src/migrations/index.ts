import { Settings1764201600000 } from './1764201600000-settings.js';
import { Identity1764288000000 } from './1764288000000-identity.js';
import { AuditEvents1764288000001 } from './1764288000001-audit-events.js';
import { Conversations1764288000002 } from './1764288000002-conversations.js';

/**
 * The one ordered list of migrations, for every lib's tables. A landed migration is never edited:
 * add a new one at the end.
 */
export const MIGRATIONS = [
  Settings1764201600000,
  Identity1764288000000,
  AuditEvents1764288000001,
  Conversations1764288000002,
];
