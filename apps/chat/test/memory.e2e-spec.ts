import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ChatHarness } from '../../../test/support/chat-harness.js';
import { freePort } from '../../../test/support/ports.js';

// The built chat app as a real process (`npm test` builds it), with --expose-gc: thousands of
// completions, streamed and not, must leave nothing per request behind (no AbortSignal, listener,
// timer or closure outliving its request). Measured as the live heap after forced collections.
const CHAT_MAIN = fileURLToPath(new URL('../../../dist/apps/chat/src/main.js', import.meta.url));
const PROBE = fileURLToPath(new URL('../../../test/support/heap-probe.mjs', import.meta.url));

const HALF = 1_500;
const CONCURRENCY = 8;
/**
 * The leak this guards against (AbortSignal.any with the SDK's abort listener, nodejs/node#55328)
 * grew the live heap by ~2.5 MB per 1,500 requests here; without it the growth measured ~0.2 MB.
 */
const BOUND_BYTES = 1024 * 1024;

describe('memory under sustained traffic', () => {
  let h: ChatHarness;
  let chat: ChildProcess;
  let baseURL: string;
  let stderr = '';

  beforeAll(async () => {
    // The harness provides the database, the simulator and the users; the measured chat is the
    // child process on the same database.
    h = await ChatHarness.start();
    const port = await freePort();
    chat = spawn(process.execPath, ['--expose-gc', '--import', PROBE, CHAT_MAIN], {
      env: {
        PATH: process.env.PATH,
        ENCLAVE_CONFIG: '',
        CHAT_PORT: String(port),
        DATABASE_URL: h.db.url,
        ENCLAVE_UPSTREAM_URL: h.config.upstream.url,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    chat.stderr!.on('data', (d) => (stderr += d));
    baseURL = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (chat.exitCode !== null) throw new Error(`chat exited: ${stderr}`);
      const ready = await fetch(`${baseURL}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`chat did not become ready: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    if (chat && chat.exitCode === null) {
      chat.kill('SIGTERM');
      await once(chat, 'exit');
    }
    await h?.stop();
  });

  async function liveHeap(): Promise<number> {
    chat.send('heap');
    const [reply] = (await once(chat, 'message')) as [{ heapUsed: number }];
    return reply.heapUsed;
  }

  async function drive(key: string, n: number): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        const res = await fetch(`${baseURL}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({
            model: 'enclave-sim',
            messages: [{ role: 'user', content: `question ${i}` }],
            stream: i % 2 === 0,
          }),
        });
        expect(res.status).toBe(200);
        await res.text();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }

  it('the live heap after a second batch of requests is no larger than after the first', async () => {
    const u = await h.user('soak@example.com');
    await drive(u.key, 300); // warm-up: code compiled, caches and pools at their working size
    await drive(u.key, HALF);
    const first = await liveHeap();
    await drive(u.key, HALF);
    const second = await liveHeap();
    expect(second - first).toBeLessThan(BOUND_BYTES);
  }, 300_000);
});
