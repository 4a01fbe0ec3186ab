import { activePath, type TreeMessage } from './message-tree.js';

const m = (id: string, role: string, parentId: string | null): TreeMessage => ({
  id,
  role,
  parentId,
});
const ROOT = 'conversation';

describe('activePath', () => {
  // q1 -> a1, a1' (regenerated); a1' -> q2 -> a2; q2' (edited q2) -> a3; q1' (edited q1) -> a4
  const tree = [
    m('q1', 'user', ROOT),
    m('a1', 'assistant', 'q1'),
    m('a1b', 'assistant', 'q1'),
    m('q2', 'user', 'a1b'),
    m('a2', 'assistant', 'q2'),
    m('q2b', 'user', 'a1b'),
    m('a3', 'assistant', 'q2b'),
  ];
  const ids = (p: { id: string }[]) => p.map((x) => x.id);

  it('ends at the newest message when nothing was chosen', () => {
    const path = activePath(tree, null, ROOT);
    expect(ids(path)).toEqual(['q1', 'a1b', 'q2b', 'a3']);
    expect(path[0]).toMatchObject({ parentId: null, versionIds: ['q1'] });
    expect(path[1]!.versionIds).toEqual(['a1', 'a1b']);
    expect(path[2]!.versionIds).toEqual(['q2', 'q2b']);
    expect(path[3]!.versionIds).toEqual(['a3']);
  });

  it('runs through the chosen version and on to its newest descendant', () => {
    expect(ids(activePath(tree, 'q2', ROOT))).toEqual(['q1', 'a1b', 'q2', 'a2']);
    expect(ids(activePath(tree, 'a1', ROOT))).toEqual(['q1', 'a1']);
    expect(ids(activePath(tree, 'a1b', ROOT))).toEqual(['q1', 'a1b', 'q2b', 'a3']);
  });

  it('keeps an edited first question beside the first one', () => {
    const edited = [...tree, m('q1b', 'user', ROOT), m('a4', 'assistant', 'q1b')];
    const path = activePath(edited, null, ROOT);
    expect(ids(path)).toEqual(['q1b', 'a4']);
    expect(path[0]!.versionIds).toEqual(['q1', 'q1b']);
    expect(ids(activePath(edited, 'q1', ROOT))).toEqual(['q1', 'a1b', 'q2b', 'a3']);
  });

  it('chains messages stored without a parent in the order they were stored', () => {
    const legacy = [m('q1', 'user', null), m('a1', 'assistant', null), m('q2', 'user', null)];
    const path = activePath(legacy, null, ROOT);
    expect(ids(path)).toEqual(['q1', 'a1', 'q2']);
    expect(path.map((p) => p.parentId)).toEqual([null, 'q1', 'a1']);
  });

  it('falls back to the newest message for an unknown choice, and treats a lost parent as a root', () => {
    expect(ids(activePath(tree, 'gone', ROOT))).toEqual(['q1', 'a1b', 'q2b', 'a3']);
    const pruned = [m('q2', 'user', 'pruned'), m('a2', 'assistant', 'q2')];
    expect(ids(activePath(pruned, null, ROOT))).toEqual(['q2', 'a2']);
    expect(activePath([], null, ROOT)).toEqual([]);
  });
});
