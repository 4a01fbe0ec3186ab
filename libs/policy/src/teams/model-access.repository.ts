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

  /** Replaces a model's groups; an empty list opens it to everyone. Returns the groups before. */
  async set(db: EntityManager, model: string, groupIds: readonly string[]): Promise<string[]> {
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
}
