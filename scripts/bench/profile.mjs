// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per area (our libs
// and apps, each npm package, Node internals, GC), as shares of the time the process was busy.
import { readFileSync } from 'node:fs';

/** Stages of a request, each recognised by one frame: [label, function name, url part]. */
const STAGES = [
  ['upstream call (undici Pool)', 'request', 'undici/'],
  ['database queries (TypeORM + pg)', 'query', 'typeorm/driver/postgres/PostgresQueryRunner'],
  ['authentication guard', 'canActivate', 'libs/auth/'],
  ['audit append', 'append', 'libs/audit/src/audit-log'],
  ['request logs (pino)', 'write', 'pino/'],
  ['request metrics', 'request', 'libs/observability/src/metrics'],
  ['socket writes (all)', 'Socket._writeGeneric', 'node:net'],
  ['garbage collection', '(garbage collector)', ''],
];

/** Where a function lives: `@enclave/<lib>`, `apps/<app>`, an npm package, `node:internals`… */
export function areaOf(url, functionName) {
  if (!url) {
    if (functionName === '(garbage collector)') return 'V8 garbage collector';
    if (functionName === '(program)') return 'V8/native (program)';
    return `native ${functionName || '(anonymous)'}`;
  }
  if (url.startsWith('node:')) return 'Node.js internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const ours = /\/dist\/(libs|apps)\/([^/]+)\//.exec(url);
  if (ours) return ours[1] === 'libs' ? `@enclave/${ours[2]}` : `apps/${ours[2]}`;
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url) {
  const pkg = /node_modules\/(.*)$/.exec(url);
  if (pkg) return pkg[1];
  const ours = /\/dist\/(.*)$/.exec(url);
  if (ours) return ours[1];
  return url.replace(/^file:\/\//, '');
}

/**
 * Self time of the samples taken between `fromMs` and `toMs` after the profile started (the
 * load window; start-up and shutdown left out), or of all samples.
 * @returns {{ busyMs: number, idleMs: number, functions: {name, where, selfMs, share}[],
 *            areas: {area, selfMs, share}[] }}
 */
export function summariseProfile(file, { top = 20, fromMs = 0, toMs = Infinity } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  let at = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < fromMs * 1000 || at > toMs * 1000) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  let idleUs = 0;
  let busyUs = 0;
  const functions = new Map();
  const areas = new Map();
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    if (callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const where = callFrame.url
      ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}`
      : '(native)';
    const key = `${callFrame.functionName || '(anonymous)'} ${where}`;
    const f = functions.get(key) ?? { name: callFrame.functionName || '(anonymous)', where, us: 0 };
    f.us += us;
    functions.set(key, f);
    const area = areaOf(callFrame.url, callFrame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const share = (us) => (busyUs ? us / busyUs : 0);
  // Inclusive time of the stages below: a sample counts for a stage when one of the stage's
  // frames is on its stack (stages overlap: socket writes happen inside database queries).
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageUs = new Map(STAGES.map(([label]) => [label, 0]));
  for (const [id, us] of selfUs) {
    if (byId.get(id).callFrame.functionName === '(idle)') continue;
    const hit = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const { functionName, url } = byId.get(cur).callFrame;
      for (const [label, name, where] of STAGES) {
        if (functionName === name && url.includes(where)) hit.add(label);
      }
    }
    for (const label of hit) stageUs.set(label, stageUs.get(label) + us);
  }
  return {
    stages: [...stageUs].map(([stage, us]) => ({ stage, selfMs: us / 1000, share: share(us) })),
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000, share: share(f.us) })),
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, selfMs: us / 1000, share: share(us) })),
  };
}
