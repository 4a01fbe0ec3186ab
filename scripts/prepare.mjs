// What `npm start` and `npm test` do first on any checkout: install dependencies when
// node_modules is missing or older than the lock file, and build when the sources changed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = dirname(dirname(fileURLToPath(import.meta.url)));

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
    for (const name of readdirSync(join(root, top))) sources.push(join(root, top, name, 'src'));
  }
  if (built && !sources.some((p) => existsSync(p) && newestMtime(p) > built))
    return buildWebIfStale();
  console.log('enclave: building…');
  run('npm', ['run', '--silent', 'build']);
}

// The web UIs (Vite) have their own stamps: the index.html that every web build writes.
const WEB_UIS = ['chat', 'admin'];

function buildWebIfStale() {
  const stale = WEB_UIS.some((app) => {
    const web = join(root, 'apps', app, 'web');
    const stamp = join(root, 'dist', 'apps', app, 'web', 'index.html');
    return existsSync(web) && (!existsSync(stamp) || newestMtime(web) > statSync(stamp).mtimeMs);
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
