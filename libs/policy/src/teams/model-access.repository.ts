import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** Which groups may use a model or alias; a model with no row is open to everyone. */
export interface ModelAccessRule {
  model: string;
  groupIds: string[];
}

@Injectable()
export class ModelAccessRepository {
  constructor(private readonly dataSource: DataSource) {}

  async list(db: EntityManager = this.dataSource.manager): Promise<ModelAccessRule[]> {
    return db.query(
      `SELECT model, array_agg(group_id::text ORDER BY group_id) AS "groupIds"
         FROM model_access GROUP BY model ORDER BY model`,
    );
  }

  /**
   * Replaces a model's groups; an empty list opens it to everyone. Returns the groups before.
   * Two changes of one model take turns (a transaction lock on its name), so neither sees the
   * other half done.
   */
  async set(db: EntityManager, model: string, groupIds: readonly string[]): Promise<string[]> {
    await lockModel(db, model);
    const before: { groupId: string }[] = await db.query(
      `DELETE FROM model_access WHERE model = $1 RETURNING group_id::text AS "groupId"`,
      [model],
    );
    if (groupIds.length) {
      await db.query('INSERT INTO model_access (model, group_id) SELECT $1, unnest($2::uuid[])', [
        model,
        [...new Set(groupIds)],
      ]);
    }
    return before.map((r) => r.groupId).sort();
  }

  /**
   * The rules that name a group, each of their models locked as `set` locks it (in name order)
   * and read after the locks, so a change to one of them is seen whole or not at all.
   */
  async lockRulesNaming(db: EntityManager, groupId: string): Promise<ModelAccessRule[]> {
    const named: { model: string }[] = await db.query(
      'SELECT model FROM model_access WHERE group_id = $1 ORDER BY model',
      [groupId],
    );
    for (const { model } of named) await lockModel(db, model);
    return (await this.list(db)).filter((r) => r.groupIds.includes(groupId));
  }
}

/** Changes of one model's access take turns (a lock held to the end of the transaction). */
async function lockModel(db: EntityManager, model: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtext('model_access:' || $1))`, [model]);
}
