import { Logger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

export const SLOW_QUERY_MS = 1_000;

/** Sends TypeORM's messages to the app's logger (pino JSON) instead of the console. */
export class DatabaseLogger implements TypeOrmLogger {
  private readonly out = new Logger('Database');

  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    this.out.error({ err: error, query }, 'query failed');
  }

  logQuerySlow(timeMs: number, query: string): void {
    this.out.warn({ timeMs, query }, 'slow query');
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.out.log({ migration: message }, 'migration');
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.out.warn({ detail: String(message) }, 'database warning');
  }
}
