import { DataSource } from 'typeorm';
import type { Config } from '@enclave/config';
import { dataSourceOptions, pendingMigrations } from '@enclave/db';

/** Runs work against the configured database, then releases the connection. */
export async function withDatabase<T>(
  config: Config,
  work: (ds: DataSource) => Promise<T>,
): Promise<T> {
  const ds = new DataSource(dataSourceOptions(config, 'cli'));
  try {
    await ds.initialize();
  } catch (err) {
    const where = config.database.url
      ? 'DATABASE_URL'
      : 'the embedded database (is `npm start` running?)';
    throw new Error(`cannot reach ${where}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return await work(ds);
  } finally {
    await ds.destroy();
  }
}

/** Like withDatabase, but first says so plainly when the schema is not there yet. */
export async function withMigratedDatabase<T>(
  config: Config,
  work: (ds: DataSource) => Promise<T>,
): Promise<T> {
  return withDatabase(config, async (ds) => {
    const pending = await pendingMigrations(ds);
    if (pending.length) {
      throw new Error(
        `the database is missing migrations (${pending.join(', ')}); run \`enclave migrate\` first`,
      );
    }
    return work(ds);
  });
}
