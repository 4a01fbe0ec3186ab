import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each chat process's view of a backend from its real traffic (libs/llm passive health): the
 * admin dashboard, which serves no completions itself, shows the worst fresh report. Written
 * only when a backend's state changes (and again at each health check while it is not healthy).
 */
export class UpstreamBackendHealth1796402861000 implements MigrationInterface {
  name = 'UpstreamBackendHealth1796402861000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE backend_health (
        backend_id   uuid NOT NULL REFERENCES backends (id) ON DELETE CASCADE,
        instance     text NOT NULL,
        state        text NOT NULL CHECK (state IN ('healthy', 'degraded', 'unhealthy')),
        last_error   text,
        reported_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (backend_id, instance)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE backend_health');
  }
}
