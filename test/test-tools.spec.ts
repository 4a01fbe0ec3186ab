import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// What `npm test` does about the Debian tools the suite runs (scripts/test-tools.mjs), asked of
// the real module in a child process: on a PATH without them, nothing is installed here.
const TOOLS = fileURLToPath(new URL('../scripts/test-tools.mjs', import.meta.url));

interface Tool {
  pkg: string;
  command?: string;
}

function ask<T>(expression: string): T {
  const script = `import * as t from ${JSON.stringify(TOOLS)}; console.log(JSON.stringify(${expression}));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as T;
}

describe('the Debian tools npm test prepares', () => {
  const all = ask<Tool[]>('t.TEST_TOOLS');
  // An empty folder as the whole PATH: no nginx, no dpkg-query.
  const bare = mkdtempSync(join(tmpdir(), 'enclave-bare-path-'));
  afterAll(() => rmSync(bare, { recursive: true, force: true }));

  it('lists what the suite runs, each with its package', () => {
    expect(all.map((t) => t.pkg)).toEqual(
      expect.arrayContaining(['nginx', 'chromium', 'rsyslog', 'rsyslog-gnutls', 'openssl']),
    );
    expect(all.find((t) => t.pkg === 'systemd')?.command).toBe('systemd-analyze');
  });

  it('finds every tool missing on a PATH that has none of them', () => {
    const missing = ask<Tool[]>(`t.missingTools({ path: ${JSON.stringify(bare)} })`);
    expect(missing.map((t) => t.pkg)).toEqual(all.map((t) => t.pkg));
  });

  it('finds nothing missing when a tool is on PATH (and only that one is asked about)', () => {
    const path = [bare, dirname(process.execPath)].join(':');
    const missing = ask<Tool[]>(
      `t.missingTools({ path: ${JSON.stringify(path)}, tools: [{ pkg: 'nodejs', command: 'node' }] })`,
    );
    expect(missing).toEqual([]);
  });

  it('without root: stops with one line naming the exact apt-get command', () => {
    const plan = ask<{ action: string; message: string }>(
      `t.installPlan([{ pkg: 'nginx' }, { pkg: 'rsyslog-gnutls' }], { isRoot: false })`,
    );
    expect(plan.action).toBe('stop');
    expect(plan.message.split('\n')).toHaveLength(1);
    expect(plan.message).toContain('`sudo apt-get install -y nginx rsyslog-gnutls`');
  });

  it('as root: installs the missing packages in one apt-get call, saying what and why', () => {
    const plan = ask<{ action: string; message: string; install: string[] }>(
      `t.installPlan([{ pkg: 'nginx', why: 'the TLS proxy' }, { pkg: 'haproxy', why: 'HA routing' }], { isRoot: true })`,
    );
    expect(plan.action).toBe('install');
    expect(plan.install).toEqual(['install', '-y', '-q', 'nginx', 'haproxy']);
    expect(plan.message).toMatch(/nginx\s+the TLS proxy/);
    expect(plan.message).toMatch(/haproxy\s+HA routing/);
  });

  it('does nothing when nothing is missing', () => {
    expect(ask<{ action: string }>('t.installPlan([], { isRoot: true })')).toEqual({
      action: 'none',
    });
  });
});
