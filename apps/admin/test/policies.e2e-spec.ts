import type { INestApplication } from '@nestjs/common';
import { RuntimePoliciesService } from '@enclave/policy';
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
import { realmFetch } from '../../../test/support/openai.js';

// The runtime policies through the admin API, and that they change what the chat app does: the
// cache scope decides whether a repeated deterministic request is a cache hit, and the default
// system prompt reaches the model when a request has none of its own.

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('admin: runtime policies', () => {
  let h: ChatHarness;
  let admin: INestApplication;
  let adminKey: string;
  let auditorKey: string;
  let user: { userId: string; key: string };

  const api = () => request(admin.getHttpServer());
  const patch = (key: string, body: unknown) =>
    api()
      .patch('/api/admin/policies')
      .set(credentials(key))
      .send(body as object);

  /** A chat completion straight to the chat app: the answer and whether the cache served it. */
  async function ask(messages: { role: string; content: string }[], temperature?: number) {
    const res = await realmFetch(`${h.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.key}` },
      body: JSON.stringify({ model: 'enclave-sim', messages, temperature }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      choices: { message: { content: string } }[];
      usage: { prompt_tokens: number };
    };
    return {
      cache: res.headers.get('x-enclave-cache'),
      content: body.choices[0]!.message.content,
      promptTokens: body.usage.prompt_tokens,
    };
  }

  /** Waits until the chat instance has taken the change (it hears it through Postgres). */
  const chatSees = (check: (p: ReturnType<RuntimePoliciesService['get']>) => boolean) =>
    until('the chat app to apply the policies', () =>
      check(h.app.get(RuntimePoliciesService).get()),
    );

  beforeAll(async () => {
    h = await ChatHarness.start();
    admin = await startApp(AdminAppModule.forRoot(h.config), h.config);
    adminKey = await sessionCredential(
      h.app,
      (await h.user('root@example.com', { role: 'admin' })).userId,
    );
    auditorKey = await sessionCredential(
      h.app,
      (await h.user('auditor@example.com', { role: 'auditor' })).userId,
    );
    user = await h.user('staff@example.com');
  });
  afterAll(async () => {
    await admin.close();
    await h.stop();
  });

  it('shows the policies to admins and auditors, starting from the defaults', async () => {
    for (const key of [adminKey, auditorKey]) {
      const res = await api().get('/api/admin/policies').set(credentials(key)).expect(200);
      expect(res.body).toEqual({
        auditContent: 'metadata',
        auditRetentionDays: { default: null, byKind: {} },
        messageRetentionDays: null,
        usageRetentionDays: null,
        cacheScope: 'user',
        defaultSystemPrompt: '',
      });
    }
    const res = await api()
      .get('/api/admin/policies')
      .set('authorization', `Bearer ${user.key}`)
      .expect(403);
    expect(res.body.error.code).toBe('forbidden');
  });

  it('refuses bad changes with the field named, and changes nothing', async () => {
    const since = await lastAuditId(h.dataSource);
    for (const [body, param] of [
      [{ cacheScope: 'everyone' }, 'cacheScope'],
      [{ auditContent: 'all' }, 'auditContent'],
      [{ messageRetentionDays: 0 }, 'messageRetentionDays'],
      [{ usageRetentionDays: 1.5 }, 'usageRetentionDays'],
      [{ auditRetentionDays: { default: 30 } }, 'auditRetentionDays.byKind'],
      [{ colour: 'blue' }, null],
    ] as const) {
      const res = await patch(adminKey, body).expect(400);
      expect(res.body.error.code).toBe('invalid_body');
      if (param) expect(res.body.error.param).toBe(param);
    }
    expect((await patch(adminKey, {}).expect(400)).body.error.code).toBe('empty_change');
    expect(await auditSince(h.dataSource, since, 'admin.policies.updated')).toEqual([]);
  });

  it('lets only admins change them', async () => {
    const since = await lastAuditId(h.dataSource);
    expect((await patch(auditorKey, { cacheScope: 'off' }).expect(403)).body.error.code).toBe(
      'forbidden',
    );
    expect((await patch(user.key, { cacheScope: 'off' }).expect(403)).body.error.code).toBe(
      'forbidden',
    );
    expect(await auditSince(h.dataSource, since, 'admin.policies.updated')).toEqual([]);
    const res = await api().get('/api/admin/policies').set(credentials(auditorKey)).expect(200);
    expect(res.body.cacheScope).toBe('user');
  });

  it('cache scope off: a repeated deterministic request is no longer a cache hit', async () => {
    const question = [{ role: 'user', content: 'Is this cached?' }];
    expect((await ask(question, 0)).cache).toBe('miss');
    expect((await ask(question, 0)).cache).toBe('hit');

    const since = await lastAuditId(h.dataSource);
    const res = await patch(adminKey, { cacheScope: 'off' }).expect(200);
    expect(res.body).toMatchObject({ cacheScope: 'off', auditContent: 'metadata' });
    const [event] = await auditSince(h.dataSource, since, 'admin.policies.updated');
    expect(event).toMatchObject({ actorType: 'user', outcome: 'success' });
    expect(event!.payload).toMatchObject({
      before: { cacheScope: 'user' },
      after: { cacheScope: 'off' },
      changed: ['cacheScope'],
    });

    await chatSees((p) => p.cacheScope === 'off');
    const off = await ask(question, 0);
    expect(off.cache).toBeNull();
    const [{ hits }] = await h.dataSource.query(
      `SELECT count(*) FILTER (WHERE cache_hit)::int AS hits FROM messages WHERE user_id = $1`,
      [user.userId],
    );
    expect(hits).toBe(1);

    await patch(adminKey, { cacheScope: 'user' }).expect(200);
    await chatSees((p) => p.cacheScope === 'user');
    expect((await ask(question, 0)).cache).toBe('hit');
  });

  it('a default system prompt reaches the model when the request has no system message', async () => {
    const question = [{ role: 'user', content: 'Where is the nearest exit?' }];
    const prompt = 'Answer in one short sentence.';
    const plain = await ask(question);
    const withOwn = await ask([{ role: 'system', content: prompt }, ...question]);
    expect(withOwn.content).not.toBe(plain.content);

    await patch(adminKey, { defaultSystemPrompt: prompt }).expect(200);
    await chatSees((p) => p.defaultSystemPrompt === prompt);
    // The simulator's answer and token count depend on every message it got: this is exactly
    // what it answers when the request itself carries the prompt.
    const prompted = await ask(question);
    expect(prompted).toEqual(withOwn);
    // A request with its own system message keeps it alone.
    const other = [{ role: 'system', content: 'Be verbose.' }, ...question];
    await patch(adminKey, { defaultSystemPrompt: '' }).expect(200);
    await chatSees((p) => p.defaultSystemPrompt === '');
    const unprompted = await ask(other);
    await patch(adminKey, { defaultSystemPrompt: prompt }).expect(200);
    await chatSees((p) => p.defaultSystemPrompt === prompt);
    expect(await ask(other)).toEqual(unprompted);
    expect((await ask(question)).content).toBe(withOwn.content);
  });

  it('the chat UI path gets the default system prompt too', async () => {
    const prompt = 'Answer like a pirate.';
    await patch(adminKey, { defaultSystemPrompt: prompt }).expect(200);
    await chatSees((p) => p.defaultSystemPrompt === prompt);
    const question = 'What is on the menu today?';
    const expected = await ask([
      { role: 'system', content: prompt },
      { role: 'user', content: question },
    ]);
    await patch(adminKey, { defaultSystemPrompt: '' }).expect(200);
    await chatSees((p) => p.defaultSystemPrompt === '');
    const unprompted = await ask([{ role: 'user', content: question }]);
    expect(unprompted.content).not.toBe(expected.content);
    await patch(adminKey, { defaultSystemPrompt: prompt }).expect(200);
    await chatSees((p) => p.defaultSystemPrompt === prompt);

    const call = (method: string, path: string, body: unknown) =>
      realmFetch(`${h.baseURL}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.key}` },
        body: JSON.stringify(body),
      });
    const created = await call('POST', '/api/conversations', {});
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const sent = await call('POST', `/api/conversations/${id}/messages`, {
      model: 'enclave-sim',
      content: question,
    });
    expect(sent.status).toBe(200);
    const streamed = (await sent.text())
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map(
        (e) =>
          (JSON.parse(e.slice(6)) as { choices: { delta?: { content?: string } }[] }).choices[0]
            ?.delta?.content ?? '',
      )
      .join('');
    expect(streamed).toBe(expected.content);
  });
});
