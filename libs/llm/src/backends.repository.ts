import { Injectable } from '@nestjs/common';
import { queryRows } from '@enclave/db';
import { DataSource, type EntityManager } from 'typeorm';

export interface BackendRow {
  id: string;
  name: string;
  baseUrl: string;
  apiKeySealed: Buffer | null;
  /** Models it serves; null: whatever its /v1/models lists. */
  models: string[] | null;
  weight: number;
  maxConcurrent: number;
  timeoutMs: number;
  enabled: boolean;
  /** Serves OpenAI's Responses API itself: /v1/responses is forwarded as is, not translated. */
  responsesApi: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type BackendInput = Pick<
  BackendRow,
  | 'name'
  | 'baseUrl'
  | 'apiKeySealed'
  | 'models'
  | 'weight'
  | 'maxConcurrent'
  | 'timeoutMs'
  | 'enabled'
> &
  Partial<Pick<BackendRow, 'responsesApi'>>;

const COLUMNS = `id, name, base_url AS "baseUrl", api_key_sealed AS "apiKeySealed", models, weight,
  max_concurrent AS "maxConcurrent", timeout_ms AS "timeoutMs", enabled,
  responses_api AS "responsesApi", created_at AS "createdAt", updated_at AS "updatedAt"`;

@Injectable()
export class BackendsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async list(db: EntityManager = this.dataSource.manager): Promise<BackendRow[]> {
    return db.query(`SELECT ${COLUMNS} FROM backends ORDER BY name`);
  }

  async get(id: string, db: EntityManager = this.dataSource.manager): Promise<BackendRow | null> {
    const rows: BackendRow[] = await db.query(`SELECT ${COLUMNS} FROM backends WHERE id = $1`, [
      id,
    ]);
    return rows[0] ?? null;
  }

  /** Inserts unless the name exists; null when it did. */
  async insert(db: EntityManager, b: BackendInput): Promise<BackendRow | null> {
    const rows: BackendRow[] = await db.query(
      `INSERT INTO backends (name, base_url, api_key_sealed, models, weight, max_concurrent, timeout_ms, enabled, responses_api)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
      [
        b.name,
        b.baseUrl,
        b.apiKeySealed,
        b.models,
        b.weight,
        b.maxConcurrent,
        b.timeoutMs,
        b.enabled,
        b.responsesApi ?? false,
      ],
    );
    return rows[0] ?? null;
  }

  async update(
    db: EntityManager,
    id: string,
    b: Partial<BackendInput>,
  ): Promise<BackendRow | null> {
    const columns: Record<keyof BackendInput, string> = {
      name: 'name',
      baseUrl: 'base_url',
      apiKeySealed: 'api_key_sealed',
      models: 'models',
      weight: 'weight',
      maxConcurrent: 'max_concurrent',
      timeoutMs: 'timeout_ms',
      enabled: 'enabled',
      responsesApi: 'responses_api',
    };
    const sets: string[] = [];
    const values: unknown[] = [id];
    for (const [key, value] of Object.entries(b) as [keyof BackendInput, unknown][]) {
      if (value === undefined) continue;
      values.push(value);
      sets.push(`${columns[key]} = $${values.length}`);
    }
    const rows = await queryRows<BackendRow>(
      db,
      `UPDATE backends SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`,
      values,
    );
    return rows[0] ?? null;
  }

  async delete(db: EntityManager, id: string): Promise<BackendRow | null> {
    const rows = await queryRows<BackendRow>(
      db,
      `DELETE FROM backends WHERE id = $1 RETURNING ${COLUMNS}`,
      [id],
    );
    return rows[0] ?? null;
  }

  async aliases(db: EntityManager = this.dataSource.manager): Promise<Map<string, string>> {
    const rows: { alias: string; model: string }[] = await db.query(
      'SELECT alias, model FROM model_aliases',
    );
    return new Map(rows.map((r) => [r.alias, r.model]));
  }

  async setAlias(db: EntityManager, alias: string, model: string | null): Promise<void> {
    if (model === null) await db.query('DELETE FROM model_aliases WHERE alias = $1', [alias]);
    else
      await db.query(
        `INSERT INTO model_aliases (alias, model) VALUES ($1, $2)
         ON CONFLICT (alias) DO UPDATE SET model = EXCLUDED.model, updated_at = now()`,
        [alias, model],
      );
  }

  /** One process's view of a backend from its own traffic (see UpstreamPool.noteState). */
  async reportHealth(
    backendId: string,
    instance: string,
    state: string,
    lastError: string | null,
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO backend_health (backend_id, instance, state, last_error)
       SELECT id, $2, $3, $4 FROM backends WHERE id = $1
       ON CONFLICT (backend_id, instance) DO UPDATE
         SET state = EXCLUDED.state, last_error = EXCLUDED.last_error, reported_at = now()`,
      [backendId, instance, state, lastError],
    );
  }

  /**
   * Per backend name, the worst state any process reported within `freshMs`, with its error:
   * what real traffic saw, across every chat instance.
   */
  async reportedHealth(
    freshMs: number,
  ): Promise<Map<string, { state: 'degraded' | 'unhealthy'; lastError: string | null }>> {
    const rows: { name: string; state: 'degraded' | 'unhealthy'; lastError: string | null }[] =
      await this.dataSource.query(
        `SELECT DISTINCT ON (b.name) b.name, h.state, h.last_error AS "lastError"
           FROM backend_health h JOIN backends b ON b.id = h.backend_id
          WHERE h.state <> 'healthy' AND h.reported_at > now() - $1 * interval '1 millisecond'
          ORDER BY b.name, h.state = 'unhealthy' DESC, h.reported_at DESC`,
        [freshMs],
      );
    return new Map(rows.map((r) => [r.name, { state: r.state, lastError: r.lastError }]));
  }
}
