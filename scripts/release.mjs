#!/usr/bin/env node
// `npm run release [-- --out DIR] [--version V] [--sign-key FILE]`: the tarball an operator
// installs from with scripts/install.sh, made on a machine with registry access so that
// installing needs none: built code, production dependencies, a supported Node.js LTS (from the
// npm registry's node-linux-<arch> package, not the Node.js that runs this script: the one CI runs
// the tests on, scripts/bundled-node.mjs), deploy/, docs/.
// Written to DIR:
//   enclave-<version>-linux-<arch>.tar.gz   enclave-<version>/{bin/node,bin/enclave,dist,…,SHA256SUMS}
//                                           (SHA256SUMS inside: every file; install.sh repairs by it)
//   enclave-<version>-linux-<arch>.cdx.json CycloneDX SBOM of the production dependencies
//   SHA256SUMS                              checksums of the two files above (`sha256sum -c`)
//   SHA256SUMS.sig                          with --sign-key (or ENCLAVE_RELEASE_SIGNING_KEY): an
//                                           Ed25519 signature of SHA256SUMS (docs/operations.md,
//                                           "Verifying a release")
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bundledNodeBinary } from './bundled-node.mjs';
import { buildIfStale, ensureInstalled, root } from './prepare.mjs';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'release' },
    version: { type: 'string' },
    arch: { type: 'string', default: 'x64' },
    'sign-key': { type: 'string', default: process.env.ENCLAVE_RELEASE_SIGNING_KEY },
  },
});
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = values.version ?? pkg.version;
if (!/^[0-9A-Za-z][0-9A-Za-z.+_-]*$/.test(version)) fail(`version "${version}" has odd characters`);
if (!['x64', 'arm64'].includes(values.arch)) fail(`--arch ${values.arch} is not x64 or arm64`);
const out = resolve(root, values.out);
const name = `enclave-${version}`;
const artifact = `${name}-linux-${values.arch}`;
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
copyFileSync(bundledNodeBinary(values.arch), join(stage, 'bin', 'node'));
chmodSync(join(stage, 'bin', 'node'), 0o755);
writeFileSync(
  join(stage, 'bin', 'enclave'),
  '#!/bin/sh\n# The enclave command with the bundled Node.js.\nhere=$(dirname "$(readlink -f "$0")")\nexec "$here/node" "$here/../scripts/enclave.mjs" "$@"\n',
  { mode: 0o755 },
);

// Production dependencies exactly as locked (from npm's cache where it has them).
run(
  'npm',
  ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'].concat(
    '--loglevel=error',
  ),
  stage,
);
const sbom = `${artifact}.cdx.json`;
run(
  join(root, 'node_modules/.bin/cyclonedx-npm'),
  ['--omit', 'dev', '--output-format', 'JSON', '--output-file', join(out, sbom)],
  stage,
);
writeFileSync(join(stage, 'SHA256SUMS'), checksums(stage, listFiles(stage)));
const tarball = `${artifact}.tar.gz`;
run('tar', ['-czf', tarball, name], out);
rmSync(stage, { recursive: true, force: true });

writeFileSync(join(out, 'SHA256SUMS'), checksums(out, [tarball, sbom]));
if (values['sign-key']) {
  run(
    'openssl',
    ['pkeyutl', '-sign', '-rawin', '-inkey', resolve(values['sign-key'])].concat([
      '-in',
      'SHA256SUMS',
      '-out',
      'SHA256SUMS.sig',
    ]),
    out,
  );
} else {
  rmSync(join(out, 'SHA256SUMS.sig'), { force: true });
  console.error('release: not signed (give --sign-key FILE or ENCLAVE_RELEASE_SIGNING_KEY)');
}
console.log(join(out, tarball));

function listFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return files.sort();
}

/** `sha256sum` format: "<hex>  <path>" per line, for `sha256sum --check`. */
function checksums(dir, files) {
  return files
    .map(
      (f) =>
        `${createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex')}  ${f}\n`,
    )
    .join('');
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

function fail(message) {
  console.error(`release: ${message}`);
  process.exit(1);
}
