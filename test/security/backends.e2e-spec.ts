import type { INestApplication } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { AdminAppModule } from '../../apps/admin/src/admin.module.js';
import { startApp } from '../support/app.js';
import { credentials, sessionCredential } from '../support/auth.js';
import { ChatHarness } from '../support/chat-harness.js';

// Backends as a way out: the admin API refuses metadata and link-local targets and URLs with
// credentials, never sends a stored upstream key to a new server unasked, and keeps the target's
// answers (bodies, headers) out of what admins and auditors see as lastError.

describe('backend URLs and what the console shows of them', () => {
  let h: ChatHarness;
  let admin: INestApplication;
  let session: string;
  let leaky: Server;
  let leakyUrl: string;

  beforeAll(async () => {
    h = await ChatHarness.start();
    admin = await startApp(AdminAppModule.forRoot(h.config), h.config);
    session = await sessionCredential(
      h.app,
      (await h.user('root@example.com', { role: 'admin' })).userId,
    );
    // A server that answers every request with an error carrying secrets in body and headers.
    leaky = createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain', 'x-internal-token': 'hdr-secret-42' });
      res.end('internal: db password is body-secret-17');
    });
    await new Promise<void>((done) => leaky.listen(0, '127.0.0.1', done));
    leakyUrl = `http://127.0.0.1:${(leaky.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await new Promise((done) => leaky?.close(done));
    await admin?.close();
    await h?.stop();
  });

  const api = () => request(admin.getHttpServer());
  const backendCount = async () => h.count('SELECT 1 FROM backends');

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://0xa9fea9fe/',
    'http://2852039166/v1',
    'http://[::ffff:169.254.169.254]/v1',
    'http://[fd00:ec2::254]/',
    'http://admin:hunter2@127.0.0.1:9/v1',
  ])('refuses a backend at %s (400 forbidden_backend_url) and stores nothing', async (baseUrl) => {
    const before = await backendCount();
    const res = await api()
      .post('/api/admin/backends')
      .set(credentials(session))
      .send({ name: `b-${Math.random().toString(36).slice(2, 8)}`, baseUrl });
    expect([res.status, res.body.error?.code]).toEqual([400, 'forbidden_backend_url']);
    expect(await backendCount()).toBe(before);
  });

  it('needs the API key again to move a backend to another server', async () => {
    const one = await h.extraSim();
    const two = await h.extraSim();
    const created = await api()
      .post('/api/admin/backends')
      .set(credentials(session))
      .send({ name: 'moving', baseUrl: one.url, apiKey: 'sk-for-server-one' })
      .expect(201);
    const id = created.body.id as string;
    const refused = await api()
      .patch(`/api/admin/backends/${id}`)
      .set(credentials(session))
      .send({ baseUrl: two.url })
      .expect(400);
    expect(refused.body.error).toMatchObject({ code: 'api_key_required', param: 'apiKey' });
    const [row] = await h.dataSource.query(
      'SELECT base_url AS "baseUrl" FROM backends WHERE id = $1',
      [id],
    );
    expect(row.baseUrl).toBe(one.url);
    // The same server under another path keeps its key; a new server with its key is fine.
    await api()
      .patch(`/api/admin/backends/${id}`)
      .set(credentials(session))
      .send({ baseUrl: `${one.url}/` })
      .expect(200);
    const moved = await api()
      .patch(`/api/admin/backends/${id}`)
      .set(credentials(session))
      .send({ baseUrl: two.url, apiKey: 'sk-for-server-two' })
      .expect(200);
    expect(moved.body).toMatchObject({ baseUrl: two.url, hasApiKey: true });
    const toNowhere = await api()
      .patch(`/api/admin/backends/${id}`)
      .set(credentials(session))
      .send({ baseUrl: 'http://169.254.169.254/v1', apiKey: null })
      .expect(400);
    expect(toNowhere.body.error.code).toBe('forbidden_backend_url');
  });

  it("keeps the target's response body and headers out of lastError", async () => {
    const created = await api()
      .post('/api/admin/backends')
      .set(credentials(session))
      .send({ name: 'leaky', baseUrl: leakyUrl })
      .expect(201);
    const tested = await api()
      .post(`/api/admin/backends/${created.body.id}/test`)
      .set(credentials(session))
      .expect(200);
    expect(tested.body).toMatchObject({
      healthy: false,
      lastError: 'health check answered HTTP 500',
    });
    const listed = await api().get('/api/admin/backends').set(credentials(session)).expect(200);
    for (const body of [tested.body, listed.body]) {
      expect(JSON.stringify(body)).not.toMatch(/body-secret-17|hdr-secret-42|db password/);
    }
  });
});
