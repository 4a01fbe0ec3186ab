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
 * regenerated answer is a new sibling, so every version stays stored. A first message names the
 * conversation itself (`rootId`), so an edited first question is a sibling of the first one. A
 * message without a parent (written before versions existed, or by a tool that does not know
 * them) follows the message stored before it; one whose parent is gone (pruned) starts the tree.
 *
 * The shown path runs from the root to `activeId` (the message last chosen or written) and on
 * down through the newest child at each step; with no (known) `activeId` it ends at the newest
 * message. `messages` must be in creation order (oldest first). Each message on the path comes
 * with its resolved `parentId` (null for a first message) and its versions' ids, oldest first.
 */
export function activePath<M extends TreeMessage>(
  messages: M[],
  activeId: string | null,
  rootId: string,
): (M & { versionIds: string[] })[] {
  if (!messages.length) return [];
  const byId = new Map(messages.map((m) => [m.id, m]));
  const parentOf = new Map<string, string | null>();
  const children = new Map<string | null, M[]>();
  messages.forEach((m, i) => {
    const parent =
      m.parentId === null
        ? (messages[i - 1]?.id ?? null)
        : m.parentId !== rootId && byId.has(m.parentId)
          ? m.parentId
          : null;
    parentOf.set(m.id, parent);
    const list = children.get(parent) ?? [];
    list.push(m);
    children.set(parent, list);
  });
  let leaf = (activeId !== null ? byId.get(activeId) : undefined) ?? messages.at(-1)!;
  for (let next = children.get(leaf.id)?.at(-1); next; next = children.get(leaf.id)?.at(-1)) {
    leaf = next;
  }
  const path: M[] = [];
  const seen = new Set<string>();
  for (let m: M | undefined = leaf; m && !seen.has(m.id); m = byId.get(parentOf.get(m.id) ?? '')) {
    seen.add(m.id);
    path.push(m);
  }
  path.reverse();
  return path.map((m) => {
    const parentId = parentOf.get(m.id) ?? null;
    const versionIds = (children.get(parentId) ?? [])
      .filter((s) => s.role === m.role)
      .map((s) => s.id);
    return { ...m, parentId, versionIds };
  });
}
