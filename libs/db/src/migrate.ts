import { type DataSource, MigrationExecutor, type QueryRunner } from 'typeorm';
import { MIGRATIONS } from './migrations/index.js';

/** Arbitrary but fixed: the advisory lock that serialises migration runs across processes. */
const MIGRATION_LOCK = 7_315_001;

/**
 * Applies pending migrations in one transaction that first takes a transaction-scoped advisory
 * lock, so processes starting together apply each migration once. (On the embedded database the
 * open transaction itself keeps the other connections out.) Returns the names applied.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const queryRunner = dataSource.createQueryRunner();
  try {
    await queryRunner.startTransaction();
    await queryRunner.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const executor = new MigrationExecutor(dataSource, queryRunner);
    const applied = await executor.executePendingMigrations();
    if (applied.length) await grantAppRoles(queryRunner);
    await queryRunner.commitTransaction();
    return applied.map((m) => m.name);
  } catch (err) {
    if (queryRunner.isTransactionActive) await queryRunner.rollbackTransaction();
    throw err;
  } finally {
    await queryRunner.release();
  }
}

/** Tables added by any migration reach the app roles too (the custody migration's function). */
async function grantAppRoles(queryRunner: QueryRunner): Promise<void> {
  const [grants] = await queryRunner.query(
    `SELECT to_regproc('enclave_grant_app_roles') IS NOT NULL AS "exists"`,
  );
  if (grants?.exists) await queryRunner.query('SELECT enclave_grant_app_roles()');
}

/** Names of the migrations not yet applied to this database (read-only: creates nothing). */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const table = dataSource.options.migrationsTableName ?? 'migrations';
  const [{ exists }] = await dataSource.query('SELECT to_regclass($1) IS NOT NULL AS exists', [
    table,
  ]);
  const executed = new Set<string>(
    exists
      ? (await dataSource.query(`SELECT name FROM "${table}"`)).map((r: { name: string }) => r.name)
      : [],
  );
  return MIGRATIONS.map((M) => new M().name).filter((name) => !executed.has(name));
}
