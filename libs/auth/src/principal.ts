import type { AuditActor } from '@enclave/audit';
import type { Role } from './roles.js';

/** The authenticated caller of a request. */
export interface Principal {
  userId: string;
  email: string;
  role: Role;
  via: 'session' | 'api_key';
  /** Set when via === 'api_key'. */
  apiKey: { id: string; prefix: string; models: string[] | null } | null;
  /** Set when via === 'session'. */
  session: { csrfToken: string } | null;
  /**
   * Signed in with a generated one-time password not yet changed: the session may only change
   * it (and read who it is, and sign out) until then.
   */
  passwordChangeRequired?: boolean;
}

/** How a principal appears in the audit trail. */
export function principalActor(p: Principal): AuditActor {
  return p.apiKey
    ? { type: 'api_key', id: p.userId, label: `${p.email} (key ${p.apiKey.prefix})` }
    : { type: 'user', id: p.userId, label: p.email };
}
