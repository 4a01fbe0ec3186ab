// The Debian packages the test suite runs for real, in one list: `npm test` installs the missing
// ones (as root) or says the one command to run (otherwise). A test that needs a new tool adds it
// here, with why.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * `command`: present when found on PATH. Without one (a library or a set of binaries outside
 * PATH), present when dpkg says the package is installed.
 */
export const TEST_TOOLS = [
  { pkg: 'nginx', command: 'nginx', why: 'the TLS proxy in front of the apps' },
  { pkg: 'chromium', command: 'chromium', why: 'browser tests (playwright-core drives it)' },
  { pkg: 'openssl', command: 'openssl', why: 'test certificates' },
  { pkg: 'rsyslog', command: 'rsyslogd', why: 'SIEM forwarding tests' },
  { pkg: 'rsyslog-gnutls', why: 'SIEM forwarding over TLS' },
  { pkg: 'systemd', command: 'systemd-analyze', why: 'checks of the systemd units' },
  { pkg: 'postgresql', why: 'Postgres servers that replication and failover tests start' },
  { pkg: 'patroni', command: 'patroni', why: 'high-availability tests' },
  { pkg: 'etcd-server', command: 'etcd', why: "Patroni's lock in the HA tests" },
  { pkg: 'etcd-client', command: 'etcdctl', why: 'HA tests' },
  { pkg: 'pgbackrest', command: 'pgbackrest', why: 'backup and restore tests' },
  { pkg: 'haproxy', command: 'haproxy', why: 'HA routing tests' },
  { pkg: 'prometheus', command: 'promtool', why: 'alert rule tests (promtool)' },
  { pkg: 'python3', command: 'python3', why: 'a notify socket for the systemd watchdog test' },
];

/** The entries of `tools` that are not on this machine, looking commands up in `path`. */
export function missingTools({ path = process.env.PATH ?? '', tools = TEST_TOOLS } = {}) {
  return tools.filter((tool) =>
    tool.command ? !onPath(tool.command, path) : !dpkgInstalled(tool.pkg, path),
  );
}

/**
 * What to do about `missing`: nothing, install (root), or stop with the command to run. The
 * message is what the user reads; `install` the apt-get arguments when this process may install.
 */
export function installPlan(missing, { isRoot = process.getuid?.() === 0 } = {}) {
  if (!missing.length) return { action: 'none' };
  const pkgs = missing.map((t) => t.pkg);
  const command = `apt-get install -y ${pkgs.join(' ')}`;
  if (!isRoot) {
    return {
      action: 'stop',
      message: `enclave: the tests need Debian packages that are missing (${pkgs.join(', ')}): run \`sudo ${command}\`, then \`npm test\` again`,
    };
  }
  return {
    action: 'install',
    message: [
      'enclave: installing Debian packages the tests run for real (apt-get):',
      ...missing.map((t) => `  ${t.pkg.padEnd(15)} ${t.why}`),
    ].join('\n'),
    install: ['install', '-y', '-q', ...pkgs],
  };
}

/** Installs or stops, as installPlan says; returns when every tool is there. */
export function ensureTestTools() {
  const plan = installPlan(missingTools());
  if (plan.action === 'none') return;
  if (plan.action === 'stop') {
    console.error(plan.message);
    process.exit(1);
  }
  console.log(plan.message);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-q'], plan.install]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) {
      console.error(
        `enclave: \`apt-get ${args.join(' ')}\` failed; the tests cannot run without it`,
      );
      process.exit(1);
    }
  }
  const still = missingTools();
  if (still.length) {
    console.error(`enclave: still missing after apt-get: ${still.map((t) => t.pkg).join(', ')}`);
    process.exit(1);
  }
}

function onPath(command, path) {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

function dpkgInstalled(pkg, path) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg], {
    encoding: 'utf8',
    env: { ...process.env, PATH: path },
  });
  return result.status === 0 && result.stdout.trim() === 'installed';
}
