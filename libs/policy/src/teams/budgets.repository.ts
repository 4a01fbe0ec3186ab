import { Injectable } from '@nestjs/common';
import { queryRows } from '@enclave/db';
import { DataSource, type EntityManager } from 'typeorm';

export type BudgetScope = 'group' | 'user' | 'api_key';
export type BudgetUnit = 'tokens' | 'money';
export type BudgetPeriod = 'day' | 'month';

/** A ceiling on a group's, user's or key's tokens or cost per UTC day or month. */
export interface Budget {
  id: string;
  scope: BudgetScope;
  subjectId: string;
  unit: BudgetUnit;
  period: BudgetPeriod;
  /** Tokens, or money in the configured currency. */
  limit: number;
}

const COLUMNS = `id, scope, subject_id AS "subjectId", unit, period, "limit"::float8 AS "limit"`;

@Injectable()
export class BudgetsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async list(db: EntityManager = this.dataSource.manager): Promise<Budget[]> {
    return db.query(`SELECT ${COLUMNS} FROM budgets ORDER BY scope, subject_id, unit, period`);
  }

  async findById(id: string, db: EntityManager = this.dataSource.manager) {
    const rows: Budget[] = await db.query(`SELECT ${COLUMNS} FROM budgets WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** One budget per subject, unit and period: setting it again changes its limit. */
  async upsert(
    db: EntityManager,
    b: Omit<Budget, 'id'>,
  ): Promise<{ before: Budget | null; after: Budget }> {
    const before: Budget[] = await db.query(
      `SELECT ${COLUMNS} FROM budgets
        WHERE scope = $1 AND subject_id = $2 AND unit = $3 AND period = $4 FOR UPDATE`,
      [b.scope, b.subjectId, b.unit, b.period],
    );
    const rows: Budget[] = await db.query(
      `INSERT INTO budgets (scope, subject_id, unit, period, "limit") VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (scope, subject_id, unit, period)
       DO UPDATE SET "limit" = EXCLUDED."limit", updated_at = now()
       RETURNING ${COLUMNS}`,
      [b.scope, b.subjectId, b.unit, b.period, b.limit],
    );
    return { before: before[0] ?? null, after: rows[0]! };
  }

  async delete(db: EntityManager, id: string): Promise<Budget | null> {
    const rows = await queryRows<Budget>(
      db,
      `DELETE FROM budgets WHERE id = $1 RETURNING ${COLUMNS}`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Deletes every budget of one subject (a group being deleted); returns them. */
  async deleteOfSubject(
    db: EntityManager,
    scope: BudgetScope,
    subjectId: string,
  ): Promise<Budget[]> {
    return queryRows<Budget>(
      db,
      `DELETE FROM budgets WHERE scope = $1 AND subject_id = $2 RETURNING ${COLUMNS}`,
      [scope, subjectId],
    );
  }
}
