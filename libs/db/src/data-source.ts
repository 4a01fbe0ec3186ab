import type { Config } from '@enclave/config';
import type { DataSourceOptions } from 'typeorm';
import { embeddedDatabaseUrl } from './embedded.js';
import { poolConnection, usePatroniFor } from './postgres-connection.js';
import { DatabaseLogger, SLOW_QUERY_MS } from './typeorm-logger.js';
import { MIGRATIONS } from './migrations/index.js';

/**
 * The Postgres URL the apps use: DATABASE_URL, or the embedded server on loopback. With
 * ENCLAVE_PATRONI_URLS set, every pool and client made from this URL (poolConnection, pgClient)
 * connects to the node Patroni names as leader: every connection in Enclave starts here.
 */
export function databaseUrl(config: Config): string {
  if (!config.database.url) {
    return embeddedDatabaseUrl(config.database.dataDir, config.database.embeddedPort);
  }
  usePatroniFor(config.database.url, config.database.patroniUrls);
  return config.database.url;
}

/**
 * DATABASE_URL may name several hosts (`postgres://u:p@db1:5432,db2:5432/enclave`): the pool then
 * always connects to the one that is primary, also after a failover (see PrimaryFinder).
 */
export function dataSourceOptions(config: Config, applicationName: string): DataSourceOptions {
  const { url, Client } = poolConnection(databaseUrl(config));
  return {
    type: 'postgres',
    url,
    applicationName: `enclave-${applicationName}`,
    migrations: MIGRATIONS,
    migrationsTableName: 'enclave_migrations',
    migrationsRun: false,
    synchronize: false,
    poolSize: config.database.poolSize,
    extra: { connectionTimeoutMillis: 5_000, ...(Client ? { Client } : {}) },
    logger: new DatabaseLogger(),
    logging: ['error', 'warn', 'migration'],
    maxQueryExecutionTime: SLOW_QUERY_MS,
  };
}
