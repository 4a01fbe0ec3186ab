// What the person typed but did not send, per user and conversation, in this browser's
// localStorage: a session that ends (or a reload) does not lose it, and the same conversation
// shows it again after the next sign-in. An explicit sign-out forgets them (a shared computer).

const PREFIX = 'enclave.draft.';

function keyOf(userId: string, conversationId: string | null): string {
  return `${PREFIX}${userId}.${conversationId ?? 'new'}`;
}

export function loadDraft(userId: string, conversationId: string | null): string {
  return localStorage.getItem(keyOf(userId, conversationId)) ?? '';
}

export function saveDraft(userId: string, conversationId: string | null, text: string): void {
  const key = keyOf(userId, conversationId);
  if (text) localStorage.setItem(key, text);
  else localStorage.removeItem(key);
}

/** Forgets every draft of this user (on sign-out). */
export function forgetDrafts(userId: string): void {
  const mine = `${PREFIX}${userId}.`;
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const key = localStorage.key(i);
    if (key?.startsWith(mine)) localStorage.removeItem(key);
  }
}
