import type { Sql } from '@enclave/db';

/** What a finished verification found: the console's view of a `DatabaseVerdict`. */
export interface VerificationVerdict {
  ok: boolean;
  checkedEvents: number;
  positions: number;
  checkpoints: number;
  unsealedEvents: number;
  firstBad: { position: number | null; problem: string; message: string } | null;
}

/** A verification of the whole chain asked for in the console and run by the audit app. */
export interface VerifyJob {
  id: string;
  status: 'pending' | 'running' | 'done' | 'failed';
  createdAt: Date;
  createdBy: string;
  createdById: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Chain positions walked so far (while running) or in all (when done). */
  positionsChecked: number;
  verdict: VerificationVerdict | null;
  /** Why the run itself failed (not a broken chain: that is a verdict with ok false). */
  error: string | null;
}

const COLUMNS = `id, status, created_at AS "createdAt", created_by_label AS "createdBy",
  created_by AS "createdById", started_at AS "startedAt", finished_at AS "finishedAt",
  positions_checked::float8 AS "positionsChecked", verdict, error`;

/**
 * A running job whose heartbeat is older than this is taken to be from an audit instance that
 * died: another may claim it. The runner beats far more often (VERIFY_HEARTBEAT_MS).
 */
const STALE_HEARTBEAT = '2 minutes';
export const VERIFY_HEARTBEAT_MS = 5_000;

/** The SQL of `audit_verifications`: the admin app adds and reads jobs, the audit app runs them. */
export class VerifyJobsRepository {
  constructor(private readonly sql: Sql) {}

  /**
   * A new pending job, or the one already pending or running (a second walk of the same chain
   * would tell nothing new). Run it in a transaction: the lock keeps two callers from both
   * creating one.
   */
  async createUnlessOpen(job: {
    createdById: string | null;
    createdBy: string;
  }): Promise<{ job: VerifyJob; created: boolean }> {
    await this.sql(`SELECT pg_advisory_xact_lock(hashtext('enclave.audit_verifications.open'))`);
    const [open] = await this.sql<VerifyJob>(
      `SELECT ${COLUMNS} FROM audit_verifications WHERE status IN ('pending', 'running')
        ORDER BY created_at LIMIT 1`,
    );
    if (open) return { job: open, created: false };
    const [row] = await this.sql<VerifyJob>(
      `INSERT INTO audit_verifications (created_by, created_by_label) VALUES ($1, $2)
       RETURNING ${COLUMNS}`,
      [job.createdById, job.createdBy],
    );
    return { job: row!, created: true };
  }

  /** The newest jobs first. */
  list(limit: number): Promise<VerifyJob[]> {
    return this.sql<VerifyJob>(
      `SELECT ${COLUMNS} FROM audit_verifications ORDER BY created_at DESC, id LIMIT $1`,
      [limit],
    );
  }

  async get(id: string): Promise<VerifyJob | null> {
    const [row] = await this.sql<VerifyJob>(
      `SELECT ${COLUMNS} FROM audit_verifications WHERE id = $1`,
      [id],
    );
    return row ?? null;
  }

  /**
   * Takes the oldest pending job (or a running one whose heartbeat stopped) and marks it running;
   * `FOR UPDATE SKIP LOCKED`, so several audit instances never take the same one.
   */
  async claim(): Promise<VerifyJob | null> {
    const [row] = await this.sql<VerifyJob>(
      `UPDATE audit_verifications
          SET status = 'running', started_at = now(), heartbeat_at = now(), positions_checked = 0
        WHERE id = (SELECT id FROM audit_verifications
                     WHERE status = 'pending'
                        OR (status = 'running' AND heartbeat_at < now() - interval '${STALE_HEARTBEAT}')
                     ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING ${COLUMNS}`,
    );
    return row ?? null;
  }

  /** The positions walked so far, and that the run is alive. */
  async progress(id: string, positionsChecked: number): Promise<void> {
    await this.sql(
      `UPDATE audit_verifications SET positions_checked = $2, heartbeat_at = now()
        WHERE id = $1 AND status = 'running'`,
      [id, positionsChecked],
    );
  }

  async finish(
    id: string,
    result: { verdict: VerificationVerdict; error: null } | { verdict: null; error: string },
  ): Promise<void> {
    await this.sql(
      `UPDATE audit_verifications
          SET status = $2, verdict = $3::jsonb, error = $4, finished_at = now(),
              positions_checked = COALESCE(($3::jsonb ->> 'positions')::bigint, positions_checked)
        WHERE id = $1`,
      [
        id,
        result.verdict ? 'done' : 'failed',
        result.verdict ? JSON.stringify(result.verdict) : null,
        result.error,
      ],
    );
  }
}
