import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Responses stored by `POST /v1/responses` (`store`, the default), for `GET /v1/responses/{id}`
 * and for `previous_response_id`. `input` is the whole conversation up to this response (the
 * items of the previous one included), so a follow-up reads one row. Owned by
 * libs/conversations, and kept, erased and held like messages (libs/privacy). Since `input`
 * copies earlier turns, `content_since` is when the oldest of them was written: retention goes
 * by it, so no copy outlives the message retention of what it holds.
 */
export class StoredResponses1796900000002 implements MigrationInterface {
  name = 'StoredResponses1796900000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stored_responses (
        id                    text PRIMARY KEY,
        user_id               uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        api_key_id            uuid REFERENCES api_keys (id) ON DELETE SET NULL,
        model                 text NOT NULL,
        previous_response_id  text,
        input                 jsonb NOT NULL,
        response              jsonb NOT NULL,
        created_at            timestamptz NOT NULL DEFAULT now(),
        content_since         timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      'CREATE INDEX stored_responses_user_created_idx ON stored_responses (user_id, created_at)',
    );
    await q.query(
      'CREATE INDEX stored_responses_content_since_idx ON stored_responses (content_since)',
    );
    // The ids of a response's output items, for `item_reference` inputs (one index probe, not a
    // walk through every response of the user).
    await q.query(
      `CREATE INDEX stored_responses_output_ids_idx ON stored_responses
         USING gin ((jsonb_path_query_array(response, '$.output[*].id')))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE stored_responses');
  }
}
