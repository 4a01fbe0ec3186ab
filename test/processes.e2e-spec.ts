import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort } from './support/ports.js';
import { createTestDatabase, type TestDatabase, viaPort } from './support/postgres.js';
import { TcpProxy } from './support/tcp-proxy.js';

// These tests run the built apps (`npm test` builds first) as real processes, so signals,
// exit codes and stderr are the ones an operator sees.
const CHAT_MAIN = fileURLToPath(new URL('../dist/apps/chat/src/main.js', import.meta.url));

interface Running {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
}

function startChat(env: Record<string, string>): Running {
  const port = Number(env.CHAT_PORT);
  const child = spawn(process.execPath, [CHAT_MAIN], {
    env: { PATH: process.env.PATH, ENCLAVE_CONFIG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return { child, port, stdout: () => out, stderr: () => err };
}

async function waitReady(app: Running): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (app.child.exitCode !== null) throw new Error(`chat exited: ${app.stderr()}`);
    try {
      if ((await fetch(`http://127.0.0.1:${app.port}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('chat did not become ready');
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = await once(child, 'exit');
  return code as number | null;
}

describe('a configuration mistake', () => {
  it('stops the process with exit code 78 and one line naming the key, not a stack trace', async () => {
    const app = startChat({ CHAT_PORT: 'abc' });
    expect(await exitOf(app.child)).toBe(78);
    const lines = app.stderr().trim().split('\n');
    expect(lines).toEqual([
      'enclave: config: CHAT_PORT="abc" is invalid (Invalid input: expected number, received NaN); expected a whole number from 1 to 65535',
    ]);
  });
});

describe('graceful shutdown', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  beforeAll(async () => {
    db = await createTestDatabase();
    proxy = TcpProxy.forUrl(db.url);
    await proxy.start();
  });
  afterAll(async () => {
    await proxy.stop();
    await db.drop();
  });

  async function startSlowChat(extra: Record<string, string> = {}): Promise<Running> {
    proxy.latencyMs = 0;
    const app = startChat({
      CHAT_PORT: String(await freePort()),
      DATABASE_URL: viaPort(db.url, proxy.port),
      LOG_LEVEL: 'info',
      ...extra,
    });
    await waitReady(app);
    // From now on every database answer takes 400 ms, so /readyz takes about a second.
    proxy.latencyMs = 400;
    return app;
  }

  it('on SIGTERM finishes the in-flight request, refuses new connections, and exits 0', async () => {
    const app = await startSlowChat();
    const inFlight = fetch(`http://127.0.0.1:${app.port}/readyz`);
    await new Promise((r) => setTimeout(r, 300));
    app.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    await expect(fetch(`http://127.0.0.1:${app.port}/healthz`)).rejects.toThrow();

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: ['database'] });
    expect(await exitOf(app.child)).toBe(0);
    expect(app.stdout()).toContain('"msg":"shut down cleanly"');
  });

  it('cuts a request that outlives ENCLAVE_SHUTDOWN_TIMEOUT_MS and still exits 0', async () => {
    const app = await startSlowChat({ ENCLAVE_SHUTDOWN_TIMEOUT_MS: '100' });
    const inFlight = fetch(`http://127.0.0.1:${app.port}/readyz`);
    await new Promise((r) => setTimeout(r, 200));
    app.child.kill('SIGTERM');
    await expect(inFlight).rejects.toThrow();
    expect(await exitOf(app.child)).toBe(0);
    expect(app.stdout()).toContain('outlived the shutdown timeout');
  });
});
