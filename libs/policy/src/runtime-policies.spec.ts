import { auditRetentionFor, type RuntimePolicies } from './runtime-policies.js';

const policies = (byKind: Record<string, number>, fallback: number | null): RuntimePolicies => ({
  auditContent: 'metadata',
  auditRetentionDays: { default: fallback, byKind },
  messageRetentionDays: null,
  usageRetentionDays: null,
  cacheScope: 'user',
  defaultSystemPrompt: '',
});

describe('auditRetentionFor', () => {
  const p = policies({ chat: 30, 'chat.completion': 7, auth: 365 }, 90);

  it('takes the longest matching action prefix', () => {
    expect(auditRetentionFor('chat.completion', p)).toBe(7);
    expect(auditRetentionFor('chat.conversation.deleted', p)).toBe(30);
    expect(auditRetentionFor('auth.login.failed', p)).toBe(365);
  });

  it('matches whole segments only, else the default', () => {
    expect(auditRetentionFor('chatter.x', p)).toBe(90);
    expect(auditRetentionFor('admin.user.updated', p)).toBe(90);
    expect(auditRetentionFor('admin.user.updated', policies({}, null))).toBeNull();
  });
});
