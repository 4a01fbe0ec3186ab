import { Injectable } from '@nestjs/common';
import { queryRows } from '@enclave/db';
import { DataSource, type EntityManager } from 'typeorm';

/** A count of failed sign-ins is forgotten after a day without another one. */
const FORGET_AFTER = '24 hours';

/** What one throttle key allows: failures answered at once, then doubling waits up to a cap. */
export interface ThrottleRule {
  freeFailures: number;
  maxDelaySeconds: number;
}

/**
 * Seconds to wait after the `failures`-th failure in a row: none for the free ones, then 1, 2,
 * 4, … up to the cap. Nothing is ever locked for good, so nobody can lock another person out.
 */
export function delayAfter(failures: number, rule: ThrottleRule): number {
  const over = failures - rule.freeFailures;
  if (over <= 0) return 0;
  return Math.min(rule.maxDelaySeconds, 2 ** Math.min(over - 1, 30));
}

/** The throttle key of an account: the email as typed (known or not, they behave alike). */
export function accountKey(email: string): string {
  return `account:${email.trim().toLowerCase()}`;
}

export function clientKey(ip: string | null): string {
  return `client:${ip ?? 'unknown'}`;
}

/** Counts of recent failed sign-ins and the waits they impose (table sign_in_throttle). */
@Injectable()
export class SignInThrottleRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Seconds until every given key may try again; 0 when none is waiting. */
  async waitSeconds(keys: string[]): Promise<number> {
    const [row] = await queryRows<{ seconds: number | null }>(
      this.dataSource.manager,
      `SELECT ceil(extract(epoch FROM max(blocked_until) - now()))::int AS seconds
         FROM sign_in_throttle WHERE key = ANY($1) AND blocked_until > now()`,
      [keys],
    );
    return Math.max(0, row?.seconds ?? 0);
  }

  /** Counts one more failure for the key and starts its wait, if it has used its free ones. */
  async recordFailure(db: EntityManager, key: string, rule: ThrottleRule): Promise<number> {
    const [row] = await queryRows<{ failures: number }>(
      db,
      `INSERT INTO sign_in_throttle AS t (key, failures, last_failure_at) VALUES ($1, 1, now())
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN t.last_failure_at < now() - interval '${FORGET_AFTER}' THEN 1
                         ELSE t.failures + 1 END,
         last_failure_at = now()
       RETURNING failures`,
      [key],
    );
    const failures = row!.failures;
    const delay = delayAfter(failures, rule);
    if (delay > 0) {
      await db.query(
        `UPDATE sign_in_throttle SET blocked_until = now() + make_interval(secs => $2) WHERE key = $1`,
        [key, delay],
      );
    }
    return failures;
  }

  async clear(db: EntityManager, key: string): Promise<void> {
    await db.query('DELETE FROM sign_in_throttle WHERE key = $1', [key]);
  }

  /** Drops counts nobody added to for a day (called now and then, not on every request). */
  async forgetOld(): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM sign_in_throttle WHERE last_failure_at < now() - interval '${FORGET_AFTER}'`,
    );
  }
}
