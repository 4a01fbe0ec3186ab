import { ChatHarness } from '../../../test/support/chat-harness.js';
import { auditSince, lastAuditId } from '../../../test/support/auth.js';

// Thumbs up / down on answers: only the answer's owner may rate it, the rating is stored with
// the message's model and backend, changed in place, audited, and counted in the metrics.

interface FeedbackRow {
  user_id: string;
  rating: string;
  comment: string | null;
  model: string | null;
  backend: string | null;
}

describe('feedback on answers', () => {
  let h: ChatHarness;
  let alice: Awaited<ReturnType<ChatHarness['user']>>;
  let bob: Awaited<ReturnType<ChatHarness['user']>>;
  let backend: string;

  beforeAll(async () => {
    h = await ChatHarness.start();
    alice = await h.user('alice@example.com');
    bob = await h.user('bob@example.com');
    [{ name: backend }] = await h.dataSource.query('SELECT name FROM backends');
  });
  afterAll(async () => {
    await h.stop();
  });

  function api(key: string, method: string, path: string, body?: unknown) {
    return fetch(`${h.baseURL}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  const rate = (key: string, messageId: string, body: unknown) =>
    api(key, 'PUT', `/api/messages/${messageId}/feedback`, body);

  /** A conversation with one question and its stored answer; the ids of both. */
  async function answered(key: string) {
    const created = await api(key, 'POST', '/api/conversations', {});
    const { id } = (await created.json()) as { id: string };
    const sent = await api(key, 'POST', `/api/conversations/${id}/messages`, {
      model: 'enclave-sim',
      content: 'What is a hash chain?',
    });
    expect(sent.status).toBe(200);
    await sent.text();
    // The answer is stored as the stream ends; wait for it, not for a fixed time.
    const deadline = Date.now() + 5_000;
    for (;;) {
      const rows: { id: string; role: string; outcome: string | null }[] = await h.dataSource.query(
        'SELECT id, role, outcome FROM messages WHERE conversation_id = $1 ORDER BY created_at, id',
        [id],
      );
      const answer = rows.find((r) => r.role === 'assistant');
      if (answer && answer.outcome !== 'in_progress') {
        return { conversationId: id, questionId: rows[0]!.id, answerId: answer.id };
      }
      if (Date.now() > deadline) throw new Error('the answer was never stored');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function feedbackRows(messageId: string): Promise<FeedbackRow[]> {
    return h.dataSource.query(
      'SELECT user_id, rating, comment, model, backend FROM feedback WHERE message_id = $1',
      [messageId],
    );
  }

  it('stores a rating with the answer’s model and backend, and audits it', async () => {
    const { answerId, conversationId } = await answered(alice.key);
    const since = await lastAuditId(h.dataSource);

    const res = await rate(alice.key, answerId, { rating: 'up' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      messageId: answerId,
      rating: 'up',
      comment: null,
      model: 'enclave-sim',
      backend,
    });
    expect(await feedbackRows(answerId)).toEqual([
      { user_id: alice.userId, rating: 'up', comment: null, model: 'enclave-sim', backend },
    ]);

    const events = await auditSince(h.dataSource, since);
    expect(events.map((e) => e.action)).toEqual(['feedback.submitted']);
    expect(events[0]).toMatchObject({
      outcome: 'success',
      actorId: alice.userId,
      targetType: 'message',
      targetId: answerId,
      payload: {
        rating: 'up',
        previousRating: null,
        commented: false,
        model: 'enclave-sim',
        backend,
        conversationId,
      },
    });
  });

  it('changes the rating in place, keeps the comment out of the audit trail, and counts it', async () => {
    const { answerId, conversationId } = await answered(alice.key);
    expect((await rate(alice.key, answerId, { rating: 'up' })).status).toBe(200);
    const since = await lastAuditId(h.dataSource);

    const secret = 'the answer quoted our Q3 numbers wrongly';
    const res = await rate(alice.key, answerId, { rating: 'down', comment: `  ${secret}  ` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ rating: 'down', comment: secret });
    expect(await feedbackRows(answerId)).toEqual([
      { user_id: alice.userId, rating: 'down', comment: secret, model: 'enclave-sim', backend },
    ]);

    const [event] = await auditSince(h.dataSource, since, 'feedback.submitted');
    expect(event!.payload).toMatchObject({
      rating: 'down',
      previousRating: 'up',
      commented: true,
    });
    expect(JSON.stringify(event)).not.toContain('Q3');

    // The UI reads it back when the conversation is opened again.
    const listed = await api(alice.key, 'GET', `/api/conversations/${conversationId}/feedback`);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toMatchObject({
      data: [{ messageId: answerId, rating: 'down', comment: secret }],
    });

    const metrics = await (await fetch(`${h.baseURL}/metrics`)).text();
    const down = metrics
      .split('\n')
      .find((l) => l.startsWith('enclave_feedback_total{') && l.includes('rating="down"'));
    expect(down).toMatch(/model="enclave-sim"/);
    expect(Number(down!.split(' ').at(-1))).toBeGreaterThanOrEqual(1);
  });

  it('answers 404 for another user’s answer or conversation, and changes nothing', async () => {
    const { answerId, conversationId } = await answered(alice.key);
    const since = await lastAuditId(h.dataSource);

    const res = await rate(bob.key, answerId, { rating: 'down', comment: 'not mine' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'message_not_found',
    );
    const unknown = await rate(bob.key, '00000000-0000-4000-8000-000000000000', {
      rating: 'up',
    });
    expect(unknown.status).toBe(404);
    const peek = await api(bob.key, 'GET', `/api/conversations/${conversationId}/feedback`);
    expect(peek.status).toBe(404);

    expect(await feedbackRows(answerId)).toEqual([]);
    expect(await auditSince(h.dataSource, since, 'feedback.submitted')).toEqual([]);
  });

  it('refuses a rating that is not up or down, a long comment, unknown fields and bad ids', async () => {
    const { answerId, questionId } = await answered(alice.key);
    const cases: [string, unknown, string, string | null][] = [
      [answerId, { rating: 'meh' }, 'invalid_body', 'rating'],
      [answerId, { comment: 'no rating' }, 'invalid_body', 'rating'],
      [answerId, { rating: 'up', comment: 'x'.repeat(2001) }, 'invalid_body', 'comment'],
      [answerId, { rating: 'up', stars: 5 }, 'invalid_body', null],
      ['not-a-uuid', { rating: 'up' }, 'invalid_id', null],
    ];
    for (const [id, body, code, param] of cases) {
      const res = await rate(alice.key, id, body);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; param: string | null } };
      expect(error.code).toBe(code);
      if (param) expect(error.param).toBe(param);
    }

    const own = await rate(alice.key, questionId, { rating: 'up' });
    expect(own.status).toBe(400);
    expect(((await own.json()) as { error: { code: string } }).error.code).toBe('not_an_answer');
    expect(await feedbackRows(answerId)).toEqual([]);
    expect(await feedbackRows(questionId)).toEqual([]);

    // A blank comment is no comment.
    const blank = await rate(alice.key, answerId, { rating: 'up', comment: '   ' });
    expect(blank.status).toBe(200);
    expect((await feedbackRows(answerId))[0]!.comment).toBeNull();
  });

  it('refuses to rate an answer that is still being written', async () => {
    const { conversationId } = await answered(alice.key);
    const [{ id }] = await h.dataSource.query(
      `INSERT INTO messages (conversation_id, user_id, role, model, outcome)
       VALUES ($1, $2, 'assistant', 'enclave-sim', 'in_progress') RETURNING id`,
      [conversationId, alice.userId],
    );
    const res = await rate(alice.key, id, { rating: 'up' });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'answer_in_progress',
    );
  });

  it('goes with the conversation when it is deleted', async () => {
    const { answerId, conversationId } = await answered(alice.key);
    expect((await rate(alice.key, answerId, { rating: 'up', comment: 'good' })).status).toBe(200);
    expect(await api(alice.key, 'DELETE', `/api/conversations/${conversationId}`)).toMatchObject({
      status: 204,
    });
    expect(await feedbackRows(answerId)).toEqual([]);
  });
});
