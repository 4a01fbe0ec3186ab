import { type AuditRecord, auditSyslogMessage, octetCountingFrame } from '@enclave/audit-chain';

const header = { hostname: 'gw1', appName: 'enclave', procId: '42' };

const record = (over: Partial<AuditRecord> = {}): AuditRecord => ({
  id: '1311',
  occurredAt: '2026-11-27T10:00:00.123456Z',
  actorType: 'user',
  actorId: '00000000-0000-4000-8000-000000000001',
  actorLabel: 'ana "a] \\ b',
  action: 'chat.completion',
  targetType: 'message',
  targetId: 'm1',
  outcome: 'success',
  sourceIp: '10.0.0.1',
  userAgent: null,
  requestId: 'r1',
  payload: { text: 'héllo 😀' },
  payloadSalt: '00'.repeat(16),
  payloadHash: 'ab'.repeat(32),
  redactedAt: null,
  ...over,
});

describe('the RFC 5424 message of a forwarded audit event', () => {
  it('has the header, escaped structured data and a BOM before the JSON', () => {
    const msg = auditSyslogMessage(header, 7, 'cd'.repeat(32), record(), 8192);
    expect(msg).toBe(
      `<110>1 2026-11-27T10:00:00.123456Z gw1 enclave 42 chat.completion [enclave@32473 pos="7" ` +
        `chainHash="${'cd'.repeat(32)}" eventId="1311" action="chat.completion" actorType="user" ` +
        `actorId="00000000-0000-4000-8000-000000000001" actor="ana \\"a\\] \\\\ b" outcome="success" ` +
        `payloadHash="${'ab'.repeat(32)}"] \uFEFF${msg.slice(msg.indexOf('\uFEFF') + 1)}`,
    );
    expect(JSON.parse(msg.slice(msg.indexOf('\uFEFF') + 1))).toMatchObject({
      pos: 7,
      id: '1311',
      actor: { type: 'user', label: 'ana "a] \\ b' },
      payload: { text: 'héllo 😀' },
    });
  });

  it('is a warning for an outcome other than success, and "-" for an empty field', () => {
    const msg = auditSyslogMessage(
      { ...header, hostname: '' },
      1,
      'cd'.repeat(32),
      record({ outcome: 'denied', actorId: null }),
      8192,
    );
    expect(msg.startsWith('<108>1 2026-11-27T10:00:00.123456Z - enclave 42 ')).toBe(true);
    expect(msg).not.toContain('actorId=');
  });

  it('leaves out a redacted payload, and an oversized one (the hash stays)', () => {
    const redacted = auditSyslogMessage(
      header,
      1,
      'cd'.repeat(32),
      record({ redactedAt: '2026-11-28T00:00:00.000000Z', payload: { secret: 'x' } }),
      8192,
    );
    expect(redacted).toContain(' redacted="true"]');
    expect(redacted).not.toContain('secret');
    const big = auditSyslogMessage(
      header,
      1,
      'cd'.repeat(32),
      record({ payload: { text: 'y'.repeat(10_000) } }),
      2048,
    );
    expect(Buffer.byteLength(big)).toBeLessThanOrEqual(2048);
    const json = JSON.parse(big.slice(big.indexOf('\uFEFF') + 1));
    expect(json).toMatchObject({ payload: null, payloadOmitted: 'too_large' });
    expect(big).toContain(`payloadHash="${'ab'.repeat(32)}"`);
  });

  it('frames with the length in bytes, not characters (RFC 6587 octet counting)', () => {
    const frame = octetCountingFrame('é😀');
    expect(frame.toString()).toBe('6 é😀');
  });
});
