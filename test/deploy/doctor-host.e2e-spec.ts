import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkClock, checkDisk, checkServices } from '../../apps/cli/src/doctor-host.js';

// `enclave doctor`'s host checks on this very machine: disk space under the data directory (also
// one not made yet), the clock's NTP state, and the units' state where systemd runs.
describe('enclave doctor: host checks', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'enclave-doctor-host-'));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports free disk space, and fails it below a tenth of the warning level', () => {
    expect(checkDisk(join(dir, 'not/made/yet'), 1)).toMatchObject({
      verdict: 'ok',
      message: expect.stringMatching(new RegExp(`GiB free under ${dir}$`)),
    });
    const tight = checkDisk(dir, Number.MAX_SAFE_INTEGER);
    expect(tight).toMatchObject({ verdict: 'fail', fix: expect.stringContaining('du -xsh') });
  });

  it('says whether NTP keeps the clock, or that it cannot tell', async () => {
    const clock = await checkClock();
    expect(clock.check).toBe('clock');
    if (existsSync('/run/systemd/system')) expect(clock.message).toMatch(/synchronized/);
    else
      expect(clock).toMatchObject({
        verdict: 'warn',
        message: expect.stringMatching(/cannot tell/),
      });
  });

  it('checks the units only where systemd runs', async () => {
    const services = await checkServices();
    if (!existsSync('/run/systemd/system'))
      expect(services).toEqual([
        { check: 'services', verdict: 'ok', message: 'not run by systemd here: not checked' },
      ]);
    else expect(services.length).toBeGreaterThan(0);
  });
});
