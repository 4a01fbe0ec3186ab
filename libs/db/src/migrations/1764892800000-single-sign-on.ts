import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Single sign-on (libs/auth): users linked to an OpenID provider account by issuer + subject (an
 * email alone can be re-assigned at the provider), and the sign-ins in flight between the
 * redirect to the provider and its callback.
 */
export class SingleSignOn1764892800000 implements MigrationInterface {
  name = 'SingleSignOn1764892800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE users ADD COLUMN oidc_issuer text');
    await q.query('ALTER TABLE users ADD COLUMN oidc_subject text');
    await q.query(`
      ALTER TABLE users ADD CONSTRAINT users_oidc_link_check
        CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL))`);
    await q.query(
      'CREATE UNIQUE INDEX users_oidc_link_key ON users (oidc_issuer, oidc_subject) WHERE oidc_issuer IS NOT NULL',
    );
    // One row per redirect to the provider, found by the hash of a random token in the browser's
    // cookie and deleted when the callback uses it (single use).
    await q.query(`
      CREATE TABLE oidc_logins (
        binding_hash   bytea PRIMARY KEY,
        state          text NOT NULL,
        nonce          text NOT NULL,
        code_verifier  text NOT NULL,
        return_to      text NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        expires_at     timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX oidc_logins_expires_at_idx ON oidc_logins (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE oidc_logins');
    await q.query('DROP INDEX users_oidc_link_key');
    await q.query('ALTER TABLE users DROP CONSTRAINT users_oidc_link_check');
    await q.query('ALTER TABLE users DROP COLUMN oidc_subject');
    await q.query('ALTER TABLE users DROP COLUMN oidc_issuer');
  }
}
