export { DbModule } from './db.module.js';
export { dataSourceOptions, databaseUrl } from './data-source.js';
export { runMigrations, pendingMigrations } from './migrate.js';
export { MIGRATIONS } from './migrations/index.js';
export {
  startEmbeddedPostgres,
  embeddedDatabaseUrl,
  embeddedDataDir,
  type EmbeddedPostgres,
} from './embedded.js';
export { DatabaseReadiness } from './database.readiness.js';
export { SettingsRepository, type Setting } from './settings.repository.js';
export { queryRows } from './query-rows.js';
