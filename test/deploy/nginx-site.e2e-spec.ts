import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLlmSim, type LlmSim } from '../../apps/llm-sim/src/simulator.js';
import { SIM_DEFAULTS } from '../support/chat-harness.js';
import { selfSignedCert, TestNginx } from '../support/nginx.js';
import { freePort } from '../support/ports.js';

// The shipped site (deploy/nginx) with the simulator behind it as the chat upstream: the probe
// and metrics doors stay shut to remote clients however the path is spelled, the access log is
// one JSON object per request with its request id and upstream timing, and a trusted load
// balancer's header names the client (set_real_ip_from).
describe('nginx site: probes, JSON access log, real client address', () => {
  let dir: string;
  let sim: LlmSim;
  let nginx: TestNginx;
  let httpsPort: number;
  let agent: Agent;
  const accessLog = () => join(dir, 'enclave-access.log');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'enclave-nginx-site-'));
    sim = createLlmSim({ ...SIM_DEFAULTS });
    const simPort = await sim.listen(0);
    const tls = await selfSignedCert(dir);
    httpsPort = await freePort();
    nginx = new TestNginx(dir);
    await nginx.render([
      '--chat', String(simPort), '--admin', String(await freePort()),
      // Loopback is not an admin network here: every request of this test is "remote"…
      '--admin-networks', '10.20.0.0/16',
      // …unless a trusted balancer (loopback) says the client is in 10.20.0.0/16.
      '--real-ip-from', '127.0.0.1/32', '--real-ip-header', 'X-Real-IP',
      '--access-log', accessLog(),
      '--cert', tls.cert, '--key', tls.key,
      '--https-port', String(httpsPort), '--http-port', String(await freePort()),
      '--listen-address', '127.0.0.1',
    ]); // prettier-ignore
    await nginx.start(httpsPort);
    agent = new Agent({ ca: readFileSync(tls.cert), keepAlive: false });
  }, 60_000);

  afterAll(async () => {
    agent?.destroy();
    await nginx?.stop();
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function get(path: string, headers: Record<string, string> = {}): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: httpsPort, path, agent, headers, servername: 'localhost' },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('refuses /readyz and /metrics to remote clients in any case, with or without a slash', async () => {
    for (const path of ['/readyz', '/readyz/', '/READYZ', '/ReadyZ/', '/metrics', '/METRICS/']) {
      expect({ path, status: await get(path) }).toEqual({ path, status: 403 });
    }
    expect(await get('/v1/models')).toBe(200);
  });

  it('takes the client address from a trusted balancer, for the admin networks and the log', async () => {
    expect(await get('/READYZ/', { 'X-Real-IP': '10.20.3.4' })).not.toBe(403);
    expect(await get('/readyz', { 'X-Real-IP': '192.0.2.9' })).toBe(403);
  });

  it('logs one JSON object per request with the request id and upstream timing', async () => {
    expect(await get('/v1/models?api_key=ek_secret', { 'X-Request-Id': 'req-json-log-1' })).toBe(
      200,
    );
    await get('/v1/models', { 'X-Real-IP': '10.20.9.9' });
    const lines = readFileSync(accessLog(), 'utf8').trim().split('\n');
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = entries.find((e) => e.request_id === 'req-json-log-1')!;
    expect(mine).toMatchObject({ method: 'GET', path: '/v1/models', status: 200 });
    expect(mine.upstream_status).toBe('200');
    expect(Number(mine.upstream_response_time)).toBeGreaterThanOrEqual(0);
    expect(mine.upstream_connect_time).toMatch(/^\d+\.\d+$/);
    expect(typeof mine.request_time).toBe('number');
    expect(JSON.stringify(entries)).not.toContain('ek_secret');
    // nginx makes an id when the client sends none; the balancer's client address is logged.
    const last = entries.at(-1)!;
    expect(last.request_id).toMatch(/^[0-9a-f]{32}$/);
    expect(last.remote_addr).toBe('10.20.9.9');
  });
});
