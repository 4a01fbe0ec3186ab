#!/usr/bin/env node
// The `enclave` command (package.json "bin"): runs the built CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/apps/cli/src/main.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('enclave: not built yet; run `npm run build` (or `npm start`) first');
  process.exit(1);
}
await import(cli);
