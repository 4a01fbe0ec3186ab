import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './support/ports.js';

// The README's run command on a machine with nothing configured: embedded database, bundled
// LLM simulator, all three apps healthy and ready; then one signal stops everything.
const START = fileURLToPath(new URL('../scripts/start.mjs', import.meta.url));

describe('npm start on embedded defaults', () => {
  it('brings chat, admin and audit to healthy and ready, then stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'enclave-start-'));
    const ports = {
      CHAT_PORT: await freePort(),
      ADMIN_PORT: await freePort(),
      AUDIT_PORT: await freePort(),
      LLM_SIM_PORT: await freePort(),
      ENCLAVE_EMBEDDED_DB_PORT: await freePort(),
    };
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ENCLAVE_DATA_DIR: dataDir };
    for (const [key, port] of Object.entries(ports)) env[key] = String(port);
    const launcher = spawn(process.execPath, [START], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    launcher.stdout.on('data', (d) => (output += d));
    launcher.stderr.on('data', (d) => (output += d));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes('Enclave is running') && Date.now() < deadline) {
        if (launcher.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(output).toContain('Enclave is running');

      for (const port of [ports.CHAT_PORT, ports.ADMIN_PORT, ports.AUDIT_PORT]) {
        expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(ready.status).toBe(200);
      }
      const models = await fetch(`http://127.0.0.1:${ports.LLM_SIM_PORT}/v1/models`);
      expect(models.status).toBe(200);
      expect(output).toContain(`data in ${dataDir}`);
      // On an empty database the first admin is created, its one-time password shown with the URLs.
      expect(output).toMatch(
        /Enclave is running[\s\S]*admin@enclave\.local\n\s+password\s+\S{20}\n/,
      );
      expect(output.match(/shown only now/g)).toHaveLength(1);
    } finally {
      launcher.kill('SIGTERM');
      const [code] = await once(launcher, 'exit');
      expect(code).toBe(0);
      for (const port of Object.values(ports)) {
        await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
