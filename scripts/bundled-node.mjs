#!/usr/bin/env node
// The Node.js LTS every release bundles and CI runs on: the npm registry's node-linux-<arch>
// package at BUNDLED_NODE, fetched once with `npm pack` into a cache directory
// (ENCLAVE_NODE_CACHE, else ~/.cache/enclave), so that what ships is what was tested.
//   node scripts/bundled-node.mjs [x64|arm64]   prints the directory of its `node` binary
//                                              (.ci/run puts it first on PATH)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Node 24 "Krypton", supported until April 2028. */
export const BUNDLED_NODE = '24.22.3';

export function defaultNodeCache() {
  return (
    process.env.ENCLAVE_NODE_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'enclave')
  );
}

/** The path of node-linux-<arch>@BUNDLED_NODE's binary, fetched when not in the cache yet. */
export function bundledNodeBinary(arch = process.arch, cacheRoot = defaultNodeCache()) {
  const cache = join(cacheRoot, `node-linux-${arch}-${BUNDLED_NODE}`);
  const binary = join(cache, 'package', 'bin', 'node');
  if (existsSync(binary)) return binary;
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  const pkg = `node-linux-${arch}@${BUNDLED_NODE}`;
  run('npm', ['pack', pkg, '--prefer-offline', '--loglevel=error', '--pack-destination', cache], cache); // prettier-ignore
  run('tar', ['-xzf', `node-linux-${arch}-${BUNDLED_NODE}.tgz`, 'package/bin/node'], cache);
  rmSync(join(cache, `node-linux-${arch}-${BUNDLED_NODE}.tgz`));
  return binary;
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    console.error(`bundled-node: ${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(dirname(bundledNodeBinary(process.argv[2])));
}
