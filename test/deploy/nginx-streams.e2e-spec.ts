import { execFile, type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { selfSignedCert } from '../support/nginx.js';
import { freePort } from '../support/ports.js';

// 1,000 concurrent streamed answers through Debian's own nginx.conf (its worker_processes auto
// and worker_connections 768, which alone let nginx answer 500 "worker_connections are not
// enough"), sized by the installer's tuning (deploy/nginx/tuning.mjs), with the shipped site in
// front of the simulator. nginx must answer no 5xx. Debian's file is used as shipped; only its
// absolute paths move into a throwaway directory.
const run = promisify(execFile);
const DEPLOY = fileURLToPath(new URL('../../deploy/nginx/', import.meta.url));
const DEBIAN_CONF = '/etc/nginx/nginx.conf';
const SIM_MAIN = fileURLToPath(new URL('../../dist/apps/llm-sim/src/main.js', import.meta.url));
const STREAMS = 1000;
// Clients arrive over a few seconds (as people do), not in one SYN flood at a single process.
const BATCH = 50;
const BATCH_EVERY_MS = 200;

describe('nginx sized for thousands of streams (Debian nginx.conf + tuning)', () => {
  let dir: string;
  let sim: ChildProcess;
  let nginx: ChildProcess;
  let httpsPort: number;
  let ca: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'enclave-nginx-streams-'));
    chmodSync(dir, 0o755);
    const etc = join(dir, 'etc/nginx');
    mkdirSync(join(etc, 'sites-enabled'), { recursive: true });
    mkdirSync(join(etc, 'conf.d'));
    mkdirSync(join(dir, 'log'));
    cpSync('/etc/nginx/mime.types', join(etc, 'mime.types'));
    cpSync('/etc/nginx/modules-enabled', join(etc, 'modules-enabled'), { dereference: true, recursive: true }); // prettier-ignore
    writeFileSync(
      join(etc, 'nginx.conf'),
      readFileSync(DEBIAN_CONF, 'utf8')
        .replaceAll('/etc/nginx/', `${etc}/`)
        .replaceAll('/run/nginx.pid', join(dir, 'nginx.pid'))
        .replaceAll('/var/log/nginx/', `${dir}/log/`),
    );

    // The simulator in a process of its own (this one is busy being 1,000 TLS clients), with
    // answers that last long enough (20 s before the first token, then 10 s of tokens) for all
    // of them to be open at once however slowly the clients connect.
    const simPort = await freePort();
    sim = spawn(process.execPath, [SIM_MAIN], {
      env: { PATH: process.env.PATH!, ENCLAVE_CONFIG: '', LLM_SIM_PORT: String(simPort),
        LLM_SIM_TTFT_MS: '20000', LLM_SIM_TOKENS_PER_SEC: '2', LLM_SIM_REPLY_TOKENS: '20' }, // prettier-ignore
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(sim.stdout!, 'data')) as [Buffer];
    if (!line.toString().includes('listening')) throw new Error(`llm-sim: ${line.toString()}`);
    sim.stdout!.resume();
    const tls = await selfSignedCert(dir);
    ca = readFileSync(tls.cert);
    httpsPort = await freePort();
    const site = join(etc, 'enclave');
    await run(process.execPath, [join(DEPLOY, 'render.mjs'), '--out', site,
      '--chat', String(simPort), '--admin', String(await freePort()),
      '--cert', tls.cert, '--key', tls.key, '--access-log', join(dir, 'log/enclave-access.log'),
      '--https-port', String(httpsPort), '--http-port', String(await freePort()),
      '--listen-address', '127.0.0.1', '--rate', '100000', '--burst', '100000']); // prettier-ignore
    symlinkSync(join(site, 'enclave.conf'), join(etc, 'sites-enabled/enclave.conf'));
    await run(process.execPath, [join(DEPLOY, 'tuning.mjs'), 'install',
      '--nginx-conf', join(etc, 'nginx.conf'), '--dir', site]); // prettier-ignore

    nginx = spawn('nginx', ['-c', join(etc, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' }); // prettier-ignore
    const deadline = Date.now() + 15_000;
    while (!existsSync(join(dir, 'nginx.pid')) || !(await listening(httpsPort))) {
      if (nginx.exitCode !== null || Date.now() > deadline)
        throw new Error(`nginx did not start: ${errors()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      nginx.kill('SIGQUIT');
      const timer = setTimeout(() => nginx.kill('SIGKILL'), 5_000);
      await once(nginx, 'exit');
      clearTimeout(timer);
    }
    if (sim && sim.exitCode === null) {
      sim.kill('SIGKILL');
      await once(sim, 'exit');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function errors(): string {
    return existsSync(join(dir, 'log/error.log')) ? readFileSync(join(dir, 'log/error.log'), 'utf8') : ''; // prettier-ignore
  }

  async function listening(port: number): Promise<boolean> {
    return run('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]).then(
      () => true,
      () => false,
    );
  }

  it("keeps Debian's nginx.conf and takes the installer's worker limits", async () => {
    const { stdout } = await run('nginx', ['-T', '-c', join(dir, 'etc/nginx/nginx.conf')]);
    expect(stdout).toMatch(/^worker_processes auto;$/m);
    expect(stdout).toMatch(/^worker_connections 8192;$/m);
    expect(stdout).toMatch(/^worker_rlimit_nofile 65536;$/m);
    expect(stdout).toMatch(/^\s*# worker_connections 768; # enclave/m);
  });

  it('carries 1,000 concurrent streams with no 5xx from nginx', async () => {
    const agent = new Agent({ ca, keepAlive: false, maxSockets: Infinity });
    // Requests in flight on the client side: all 1,000 at once when the last starts before the
    // first answer ends.
    let open = 0;
    let peak = 0;
    const body = JSON.stringify({
      model: 'enclave-sim',
      stream: true,
      messages: [{ role: 'user', content: 'hello' }],
    });
    const one = () =>
      new Promise<{ status: number; done: boolean }>((resolve) => {
        open++;
        peak = Math.max(peak, open);
        const req = request(
          {
            host: '127.0.0.1',
            port: httpsPort,
            servername: 'localhost',
            path: '/v1/chat/completions',
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', authorization: 'Bearer sim' },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (text += d));
            res.on('end', () => {
              open--;
              resolve({ status: res.statusCode!, done: text.includes('[DONE]') });
            });
            res.on('error', () => (open--, resolve({ status: res.statusCode!, done: false })));
          },
        );
        req.on('error', () => (open--, resolve({ status: 0, done: false })));
        req.end(body);
      });
    const pending: Promise<{ status: number; done: boolean }>[] = [];
    for (let i = 0; i < STREAMS; i += BATCH) {
      for (let j = 0; j < BATCH; j++) pending.push(one());
      await new Promise((r) => setTimeout(r, BATCH_EVERY_MS));
    }
    const results = await Promise.all(pending);
    agent.destroy();

    const statuses: Record<number, number> = {};
    for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    expect(statuses).toEqual({ 200: STREAMS });
    expect(results.filter((r) => !r.done)).toHaveLength(0);
    expect(peak).toBe(STREAMS);
    expect(errors()).not.toContain('worker_connections are not enough');
  }, 180_000);
});
