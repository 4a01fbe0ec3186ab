export { DbModule } from './db.module.js';
export { dataSourceOptions, databaseUrl } from './data-source.js';
export { runMigrations, pendingMigrations } from './migrate.js';
export { MIGRATIONS } from './migrations/index.js';
export {
  EmbeddedPostgres,
  OldEmbeddedDataError,
  embeddedDatabaseUrl,
  embeddedPaths,
  oldEmbeddedDataNotice,
  type EmbeddedPostgresOptions,
} from './embedded.js';
export { DatabaseReadiness } from './database.readiness.js';
export { SettingsRepository, type Setting } from './settings.repository.js';
export { queryRows, sqlOf, sqlOfClient, type Sql } from './query-rows.js';
export {
  ensureMonthlyPartitions,
  monthlyPartitions,
  partitionFor,
  type MonthPartition,
  type PartitionedTable,
} from './monthly-partitions.js';
export { ConfigEvents, notifyConfigChanged, type ConfigTopic } from './config-events.js';
export { parsePostgresUrl, type PostgresHost, type PostgresUrl } from './postgres-hosts.js';
export { PrimaryFinder, primaryClientClass } from './primary-finder.js';
export {
  pgClient,
  poolConnection,
  primaryFinderFor,
  usePatroniFor,
} from './postgres-connection.js';
export { findPatroniLeader } from './patroni-leader.js';
export {
  APP_ROLES,
  createAppRoles,
  grantReplicationStats,
  type AppName,
  type AppRole,
} from './app-roles.js';
