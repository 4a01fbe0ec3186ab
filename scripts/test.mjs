#!/usr/bin/env node
// `npm test [-- jest args]`: the whole suite. Installs and builds when needed (some tests run the
// built apps as real processes), then runs jest in ESM mode (NestJS 12 ships ES modules only).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildIfStale, ensureInstalled, root } from './prepare.mjs';

ensureInstalled();
buildIfStale();
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const result = spawnSync(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    jest,
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
