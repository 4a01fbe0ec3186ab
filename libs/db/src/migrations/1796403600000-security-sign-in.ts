import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sign-in throttling instead of account lockout, and one-time passwords that must be changed
 * (libs/auth). `sign_in_throttle` counts recent failed sign-ins per account (by the email as
 * typed, so unknown accounts behave like known ones) and per client address; users.failed_logins
 * and locked_until are no longer written, and nobody stays locked by the old rule.
 */
export class SecuritySignIn1796403600000 implements MigrationInterface {
  name = 'SecuritySignIn1796403600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      'ALTER TABLE users ADD COLUMN password_change_required boolean NOT NULL DEFAULT false',
    );
    await q.query(`
      CREATE TABLE sign_in_throttle (
        key              text PRIMARY KEY,
        failures         integer NOT NULL,
        blocked_until    timestamptz,
        last_failure_at  timestamptz NOT NULL
      )`);
    await q.query(
      'CREATE INDEX sign_in_throttle_last_failure_idx ON sign_in_throttle (last_failure_at)',
    );
    await q.query(
      'UPDATE users SET failed_logins = 0, locked_until = NULL WHERE locked_until IS NOT NULL OR failed_logins > 0',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sign_in_throttle');
    await q.query('ALTER TABLE users DROP COLUMN password_change_required');
  }
}
