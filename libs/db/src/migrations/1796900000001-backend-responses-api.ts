import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whether a backend serves OpenAI's Responses API (`POST /v1/responses`) itself: Enclave then
 * forwards /v1/responses to it as is; other backends get the request translated to chat
 * completions (apps/chat/src/responses).
 */
export class BackendResponsesApi1796900000001 implements MigrationInterface {
  name = 'BackendResponsesApi1796900000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE backends ADD COLUMN responses_api boolean NOT NULL DEFAULT false');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE backends DROP COLUMN responses_api');
  }
}
