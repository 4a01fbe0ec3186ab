import { payloadHash } from '@enclave/audit';
import { type AuditRecord } from '@enclave/audit-chain';

/**
 * An audit record for unit tests: plain values, a null or two, and a payload whose JSON needs
 * escapes. `over` replaces fields; the payload hash follows the payload unless given (an erased
 * payload keeps the hash of the one it replaced).
 */
export function auditRecord(i: number, over: Partial<AuditRecord> = {}): AuditRecord {
  const salt = '0f'.repeat(16);
  const r: AuditRecord = {
    id: String(100 + i),
    occurredAt: '2025-11-28T10:00:00.123456Z',
    actorType: 'user',
    actorId: '00000000-0000-4000-8000-000000000001',
    actorLabel: 'ana@example.com',
    action: 'chat.completion',
    targetType: 'message',
    targetId: `m${i}`,
    outcome: 'success',
    sourceIp: '10.0.0.1',
    userAgent: null,
    requestId: 'r',
    payload: { n: i, b: { y: [1, 'two', null], x: 'é"\n' }, a: '\u2028😀' },
    payloadSalt: salt,
    payloadHash: '',
    redactedAt: null,
    ...over,
  };
  r.payloadHash = over.payloadHash ?? payloadHash(salt, over.redactedAt ? { n: i } : r.payload);
  return r;
}
