/** What the tree needs of a stored message. */
export interface TreeMessage {
  id: string;
  role: string;
  parentId: string | null;
}

/**
 * The path of a conversation the chat UI shows, and the versions of each message on it.
 *
 * Messages form a tree: each names the message it follows (`parentId`); an edited question or a
 * regenerated answer is a new sibling, so every version stays stored. The shown path runs from
 * the root to `activeId` (the message last chosen or written) and on down through the newest
 * child at each step; with no (known) `activeId` it ends at the newest message. `messages` must
 * be in creation order (oldest first).
 */
export function activePath<M extends TreeMessage>(
  messages: M[],
  activeId: string | null,
): (M & { versionIds: string[] })[] {
  if (!messages.length) return [];
  const byId = new Map(messages.map((m) => [m.id, m]));
  const children = new Map<string | null, M[]>();
  for (const m of messages) {
    // A parent that is gone (pruned by retention) makes the message a root.
    const parent = m.parentId !== null && byId.has(m.parentId) ? m.parentId : null;
    const list = children.get(parent) ?? [];
    list.push(m);
    children.set(parent, list);
  }
  let leaf = (activeId !== null ? byId.get(activeId) : undefined) ?? messages.at(-1)!;
  for (let next = children.get(leaf.id)?.at(-1); next; next = children.get(leaf.id)?.at(-1)) {
    leaf = next;
  }
  const path: M[] = [];
  const seen = new Set<string>();
  for (let m: M | undefined = leaf; m && !seen.has(m.id); m = byId.get(m.parentId ?? '')) {
    seen.add(m.id);
    path.push(m);
  }
  path.reverse();
  return path.map((m) => {
    const parent = m.parentId !== null && byId.has(m.parentId) ? m.parentId : null;
    const versionIds = (children.get(parent) ?? [])
      .filter((s) => s.role === m.role)
      .map((s) => s.id);
    return { ...m, versionIds };
  });
}
