// What `npm start` and `npm test` do first on any checkout: install dependencies when
// node_modules is missing or older than the lock file, and build when the sources changed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** The browser code the web UIs share (libs/web): built by Vite with them, not by tsc. */
const SHARED_WEB = 'web';

export function ensureInstalled() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  console.log('enclave: installing dependencies (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

export function buildIfStale() {
  const stamp = join(root, 'dist', '.tsbuildinfo');
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  const sources = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((f) =>
    join(root, f),
  );
  for (const top of ['apps', 'libs']) {
    for (const name of readdirSync(join(root, top))) {
      // libs/web is browser code: the web builds below watch it, the Node build leaves it out.
      if (top === 'libs' && name === SHARED_WEB) continue;
      sources.push(join(root, top, name, 'src'));
    }
  }
  if (built && !sources.some((p) => existsSync(p) && newestMtime(p) > built))
    return buildWebIfStale();
  console.log('enclave: building…');
  run('npm', ['run', '--silent', 'build']);
}

// The web UIs (Vite) have their own stamps: the index.html that every web build writes. Each is
// stale when its own folder or the libs they bundle (libs/web, libs/contracts) is newer than its
// stamp.
const WEB_UIS = ['chat', 'admin'];
const BUNDLED_LIBS = [SHARED_WEB, 'contracts'];

function buildWebIfStale() {
  const sharedMtime = Math.max(
    0,
    ...BUNDLED_LIBS.map((name) => join(root, 'libs', name))
      .filter((dir) => existsSync(dir))
      .map(newestMtime),
  );
  const stale = WEB_UIS.some((app) => {
    const web = join(root, 'apps', app, 'web');
    const stamp = join(root, 'dist', 'apps', app, 'web', 'index.html');
    if (!existsSync(web)) return false;
    if (!existsSync(stamp)) return true;
    const built = statSync(stamp).mtimeMs;
    return newestMtime(web) > built || sharedMtime > built;
  });
  if (!stale) return;
  console.log('enclave: building the web UIs…');
  run('npm', ['run', '--silent', 'build:web']);
}

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
