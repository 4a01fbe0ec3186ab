#!/usr/bin/env node
// Sizes nginx for thousands of concurrent streams. Each stream holds two connections in one
// worker (client and chat instance), and Debian's nginx.conf allows 768 per worker with the
// default 1024 open files: past a few hundred streams nginx itself answers 500.
//   node tuning.mjs install --nginx-conf /etc/nginx/nginx.conf --dir /etc/nginx/enclave
//   node tuning.mjs remove  --nginx-conf /etc/nginx/nginx.conf --dir /etc/nginx/enclave
// install writes DIR/enclave-main.conf (main context) and DIR/enclave-events.conf (events
// context), and makes nginx.conf include them: its own worker_connections line is commented out
// and marked, so `remove` (install.sh --uninstall) puts it back. Idempotent.
import { mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

// worker_rlimit_nofile covers both connections of every stream plus files, with room to spare.
export const WORKER_CONNECTIONS = 8192;
export const WORKER_RLIMIT_NOFILE = 65536;
const MARK = '# enclave (install.sh)';

/** nginx.conf's text with the Enclave includes in place. Throws when it cannot tell where. */
export function tune(text, dir) {
  const mainInclude = `include ${join(dir, 'enclave-main.conf')}; ${MARK}`;
  const eventsInclude = `include ${join(dir, 'enclave-events.conf')}; ${MARK}`;
  const lines = untune(text).split('\n');
  const start = lines.findIndex((l) => /^\s*events\s*\{\s*(#.*)?$/.test(l));
  if (start < 0) {
    throw new Error(
      `no "events {" line in nginx.conf: add "${eventsInclude}" inside its events block and "${mainInclude}" before it`,
    );
  }
  const end = lines.findIndex((l, i) => i > start && /^\s*\}/.test(l));
  if (end < 0) throw new Error('the events block of nginx.conf does not end with a "}" line');
  const indent = /^(\s*)/.exec(lines[start + 1] ?? '')?.[1] || '\t';
  for (let i = start + 1; i < end; i++) {
    const line = lines[i];
    if (/^\s*worker_connections\s/.test(line)) lines[i] = `${indent}# ${line.trim()} ${MARK}`;
    else if (/^\s*worker_rlimit_nofile\s/.test(line))
      lines[i] = `${indent}# ${line.trim()} ${MARK}`;
  }
  lines.splice(start + 1, 0, `${indent}${eventsInclude}`);
  for (let i = 0; i < start; i++) {
    if (/^\s*worker_rlimit_nofile\s/.test(lines[i])) lines[i] = `# ${lines[i].trim()} ${MARK}`;
  }
  lines.splice(start, 0, mainInclude);
  return lines.join('\n');
}

/** nginx.conf's text as it was before `tune`. */
export function untune(text) {
  return text
    .split('\n')
    .filter((l) => !(l.trimStart().startsWith('include ') && l.trimEnd().endsWith(MARK)))
    .map((l) =>
      l.trimEnd().endsWith(MARK) ? l.replace(/# (.*?) # enclave \(install\.sh\)\s*$/, '$1') : l,
    )
    .join('\n');
}

function writeAtomically(path, text) {
  writeFileSync(`${path}.tmp`, text, { mode: 0o644 });
  renameSync(`${path}.tmp`, path);
}

// Run as a command (also through a symlink such as /opt/enclave/current), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const { values, positionals } = parseArgs({
    options: { 'nginx-conf': { type: 'string' }, dir: { type: 'string' } },
    allowPositionals: true,
  });
  const action = positionals[0];
  if (!['install', 'remove'].includes(action) || !values['nginx-conf'] || !values.dir) {
    console.error('usage: tuning.mjs install|remove --nginx-conf FILE --dir DIR');
    process.exit(2);
  }
  const conf = resolve(values['nginx-conf']);
  const dir = resolve(values.dir);
  const text = readFileSync(conf, 'utf8');
  try {
    if (action === 'install') {
      mkdirSync(dir, { recursive: true });
      writeAtomically(
        join(dir, 'enclave-main.conf'),
        `# Written by Enclave's installer (deploy/nginx/tuning.mjs); nginx.conf's main context.\nworker_rlimit_nofile ${WORKER_RLIMIT_NOFILE};\n`,
      );
      writeAtomically(
        join(dir, 'enclave-events.conf'),
        `# Written by Enclave's installer (deploy/nginx/tuning.mjs); nginx.conf's events block.\n# Per worker; each streamed answer holds two connections (client and chat instance).\nworker_connections ${WORKER_CONNECTIONS};\n`,
      );
      const tuned = tune(text, dir);
      if (tuned !== text) writeAtomically(conf, tuned);
    } else {
      const plain = untune(text);
      if (plain !== text) writeAtomically(conf, plain);
    }
  } catch (err) {
    console.error(`nginx tuning: ${err.message}`);
    process.exit(1);
  }
}
