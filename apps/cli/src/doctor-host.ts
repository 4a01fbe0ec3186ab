import { execFile } from 'node:child_process';
import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '@enclave/config';
import type { Finding } from './doctor.js';

const run = promisify(execFile);

/** Below this much free space under the data directory, doctor warns; below a tenth, it fails. */
export const DISK_WARN_BYTES = 2 * 1024 ** 3;
const UNITS = ['enclave-admin.service', 'enclave-audit.service', 'enclave-chat@*.service'];

/** The host Enclave runs on: clock sync, disk space, and the state of its systemd units. */
export async function checkHost(config: Config): Promise<Finding[]> {
  return [await checkClock(), checkDisk(config.database.dataDir), ...(await checkServices())];
}

/** Signed checkpoints, sessions and TOTP-like tokens all need a clock that NTP keeps right. */
export async function checkClock(): Promise<Finding> {
  try {
    const { stdout } = await run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], {
      timeout: 5_000,
    });
    return stdout.trim() === 'yes'
      ? { check: 'clock', verdict: 'ok', message: 'synchronized by NTP' }
      : {
          check: 'clock',
          verdict: 'warn',
          message: 'not synchronized by NTP: audit timestamps and token expiry may drift',
          fix: 'timedatectl set-ntp true (or configure chrony) and check the NTP servers are reachable',
        };
  } catch {
    return {
      check: 'clock',
      verdict: 'warn',
      message: 'cannot tell whether the clock is synchronized (no timedatectl or no systemd here)',
      fix: 'check NTP by hand: chronyc tracking or ntpq -p',
    };
  }
}

/** Free space where the data directory lives (or would live). */
export function checkDisk(dir: string, warnBytes: number = DISK_WARN_BYTES): Finding {
  let at = dir;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  const fs = statfsSync(at);
  const free = fs.bavail * fs.bsize;
  const gib = (free / 1024 ** 3).toFixed(1);
  if (free >= warnBytes)
    return { check: 'disk', verdict: 'ok', message: `${gib} GiB free under ${at}` };
  return {
    check: 'disk',
    verdict: free < warnBytes / 10 ? 'fail' : 'warn',
    message: `only ${gib} GiB free under ${at}`,
    fix: 'free space or grow the volume: du -xsh /var/lib/enclave /var/lib/postgresql /var/log/* | sort -h',
  };
}

/** Each Enclave unit of this host: active, or what state it is in (only where systemd runs). */
export async function checkServices(): Promise<Finding[]> {
  if (!existsSync('/run/systemd/system')) {
    return [{ check: 'services', verdict: 'ok', message: 'not run by systemd here: not checked' }];
  }
  let listed: string;
  try {
    ({ stdout: listed } = await run(
      'systemctl',
      ['list-units', '--all', '--plain', '--no-legend', ...UNITS],
      { timeout: 5_000 },
    ));
  } catch (err) {
    return [{ check: 'services', verdict: 'warn', message: `systemctl failed: ${String(err)}` }];
  }
  const units = listed
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/));
  if (units.length === 0) {
    return [
      {
        check: 'services',
        verdict: 'warn',
        message: 'no Enclave units are loaded',
        fix: 'scripts/install.sh installs them',
      },
    ];
  }
  return units.map(([unit, , active, sub]) =>
    active === 'active'
      ? { check: `service ${unit}`, verdict: 'ok' as const, message: `active (${sub})` }
      : {
          check: `service ${unit}`,
          verdict: 'fail' as const,
          message: `${active} (${sub})`,
          fix: `journalctl -u ${unit} -p warning -n 50; systemctl restart ${unit}`,
        },
  );
}
