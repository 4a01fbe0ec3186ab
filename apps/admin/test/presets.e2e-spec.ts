import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AdminAppModule } from '../src/admin.module.js';
import { startApp } from '../../../test/support/app.js';
import {
  auditSince,
  credentials,
  lastAuditId,
  sessionCredential,
} from '../../../test/support/auth.js';
import { ChatHarness } from '../../../test/support/chat-harness.js';

// Presets and prompt templates an admin publishes: the admin API writes them with their audit
// events, and every user of the chat app (same database) then sees them.

describe('admin: published presets and prompt templates', () => {
  let h: ChatHarness;
  let admin: INestApplication;
  let adminKey: string;
  let user: { userId: string; key: string };

  const api = () => request(admin.getHttpServer());
  const chat = (path: string) =>
    fetch(`${h.baseURL}${path}`, { headers: { authorization: `Bearer ${user.key}` } }).then(
      (r) => r.json() as Promise<{ data: { id: string; name: string; shared: boolean }[] }>,
    );

  beforeAll(async () => {
    h = await ChatHarness.start();
    admin = await startApp(AdminAppModule.forRoot(h.config), h.config);
    adminKey = await sessionCredential(
      h.app,
      (await h.user('root@example.com', { role: 'admin' })).userId,
    );
    user = await h.user('staff@example.com');
  });
  afterAll(async () => {
    await admin.close();
    await h.stop();
  });

  it('publishes a preset to every user, audited, and deletes it again', async () => {
    const since = await lastAuditId(h.dataSource);
    const res = await api()
      .post('/api/admin/presets')
      .set(credentials(adminKey))
      .send({ name: 'Legal review', systemPrompt: 'Cite the clause.', params: { temperature: 0 } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Legal review', shared: true });
    expect((await chat('/api/presets')).data).toEqual([
      expect.objectContaining({ id: res.body.id, shared: true }),
    ]);
    const listed = await api().get('/api/admin/presets').set(credentials(adminKey));
    expect(listed.body.data.map((p: { id: string }) => p.id)).toEqual([res.body.id]);

    const dup = await api()
      .post('/api/admin/presets')
      .set(credentials(adminKey))
      .send({ name: 'LEGAL REVIEW' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('name_taken');

    const del = await api().delete(`/api/admin/presets/${res.body.id}`).set(credentials(adminKey));
    expect(del.status).toBe(204);
    expect((await chat('/api/presets')).data).toEqual([]);
    const again = await api()
      .delete(`/api/admin/presets/${res.body.id}`)
      .set(credentials(adminKey));
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('preset_not_found');

    const events = await auditSince(h.dataSource, since);
    expect(
      events
        .filter((e) => e.action.startsWith('admin.preset'))
        .map((e) => [e.action, e.targetId, e.payload]),
    ).toEqual([
      [
        'admin.preset.published',
        res.body.id,
        { name: 'Legal review', systemPrompt: 'Cite the clause.', params: { temperature: 0 } },
      ],
      ['admin.preset.deleted', res.body.id, { name: 'Legal review' }],
    ]);
  });

  it("publishes prompt templates, and never touches a user's own", async () => {
    const since = await lastAuditId(h.dataSource);
    const own = await fetch(`${h.baseURL}/api/prompt-templates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.key}` },
      body: JSON.stringify({ name: 'mine', content: 'My own words:' }),
    }).then((r) => r.json() as Promise<{ id: string }>);

    const res = await api()
      .post('/api/admin/prompt-templates')
      .set(credentials(adminKey))
      .send({ name: 'summary', content: 'Summarise in five bullet points:' });
    expect(res.status).toBe(201);
    expect((await chat('/api/prompt-templates')).data.map((t) => [t.name, t.shared])).toEqual([
      ['mine', false],
      ['summary', true],
    ]);
    const listed = await api().get('/api/admin/prompt-templates').set(credentials(adminKey));
    expect(listed.body.data.map((t: { name: string }) => t.name)).toEqual(['summary']);
    const foreign = await api()
      .delete(`/api/admin/prompt-templates/${own.id}`)
      .set(credentials(adminKey));
    expect(foreign.status).toBe(404);
    const bad = await api()
      .post('/api/admin/prompt-templates')
      .set(credentials(adminKey))
      .send({ name: '/summary', content: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_body', param: 'name' });

    const events = await auditSince(h.dataSource, since, 'admin.prompt_template.published');
    expect(events.map((e) => [e.actorId, e.targetId, e.payload])).toEqual([
      [
        expect.any(String),
        res.body.id,
        { name: 'summary', content: 'Summarise in five bullet points:' },
      ],
    ]);
  });
});
