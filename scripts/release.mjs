#!/usr/bin/env node
// `npm run release [-- --out DIR] [--version V]`: the tarball an operator installs from with
// scripts/install.sh, made on a machine with registry access so that installing needs none:
// built code, production dependencies, the Node.js runtime it was built with, deploy/ and docs/.
//   enclave-<version>.tar.gz → enclave-<version>/{bin/node,bin/enclave,dist,node_modules,deploy,…}
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildIfStale, ensureInstalled, root } from './prepare.mjs';

const { values } = parseArgs({
  options: { out: { type: 'string', default: 'release' }, version: { type: 'string' } },
});
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = values.version ?? pkg.version;
if (!/^[0-9A-Za-z][0-9A-Za-z.+_-]*$/.test(version)) fail(`version "${version}" has odd characters`);
const out = resolve(root, values.out);
const name = `enclave-${version}`;
const stage = join(out, name);

ensureInstalled();
buildIfStale();
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'bin'), { recursive: true });

cpSync(join(root, 'dist'), join(stage, 'dist'), {
  recursive: true,
  filter: (src) => !src.endsWith('.tsbuildinfo'),
});
for (const dir of ['deploy', 'docs'])
  cpSync(join(root, dir), join(stage, dir), { recursive: true });
mkdirSync(join(stage, 'scripts'));
for (const file of ['enclave.mjs', 'install.sh', 'scale']) {
  copyFileSync(join(root, 'scripts', file), join(stage, 'scripts', file));
}
chmodSync(join(stage, 'scripts', 'install.sh'), 0o755);
chmodSync(join(stage, 'scripts', 'scale'), 0o755);
for (const file of ['package.json', 'package-lock.json', 'README.md']) {
  copyFileSync(join(root, file), join(stage, file));
}
writeFileSync(join(stage, 'VERSION'), `${version}\n`);

// The runtime: data centers often have no Node.js of the right version, and no internet.
copyFileSync(process.execPath, join(stage, 'bin', 'node'));
chmodSync(join(stage, 'bin', 'node'), 0o755);
writeFileSync(
  join(stage, 'bin', 'enclave'),
  '#!/bin/sh\n# The enclave command with the bundled Node.js.\nhere=$(dirname "$(readlink -f "$0")")\nexec "$here/node" "$here/../scripts/enclave.mjs" "$@"\n',
  { mode: 0o755 },
);

// Production dependencies exactly as locked (from npm's cache where it has them).
run(
  'npm',
  ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
  stage,
);
run('tar', ['-czf', `${name}.tar.gz`, name], out);
rmSync(stage, { recursive: true, force: true });
console.log(join(out, `${name}.tar.gz`));

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

function fail(message) {
  console.error(`release: ${message}`);
  process.exit(1);
}
