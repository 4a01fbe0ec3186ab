import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Thumbs up / down (and an optional comment) on the chat UI's answers: one per user per message,
 * changed in place when the user changes their mind. The model and backend are copied from the
 * message so the admin listing needs no join, and the feedback goes with the message when a
 * conversation is deleted or an answer regenerated.
 */
export class Feedback1764547200000 implements MigrationInterface {
  name = 'Feedback1764547200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE feedback (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        message_id  uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        rating      text NOT NULL CHECK (rating IN ('up', 'down')),
        comment     text,
        model       text,
        backend     text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        UNIQUE (message_id, user_id)
      )`);
    await q.query('CREATE INDEX feedback_recent_idx ON feedback (created_at DESC, id DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE feedback');
  }
}
