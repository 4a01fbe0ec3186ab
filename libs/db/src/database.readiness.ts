import { Injectable } from '@nestjs/common';
import type { ReadinessCheck } from '@enclave/observability';
import { DataSource } from 'typeorm';
import { pendingMigrations } from './migrate.js';

const CHECK_TIMEOUT_MS = 2_000;

/** Ready when Postgres answers and every migration this build knows has been applied. */
@Injectable()
export class DatabaseReadiness implements ReadinessCheck {
  readonly name = 'database';

  constructor(private readonly dataSource: DataSource) {}

  async check(): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(
        () => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`),
        CHECK_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([this.probe(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async probe(): Promise<string | null> {
    try {
      const pending = await pendingMigrations(this.dataSource);
      return pending.length ? `migrations not applied: ${pending.join(', ')}` : null;
    } catch (err) {
      // The driver's code only: its message can carry host names, user names and SQL.
      const code = (err as { code?: unknown } | null)?.code;
      return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code)
        ? `unreachable (${code})`
        : 'unreachable';
    }
  }
}
