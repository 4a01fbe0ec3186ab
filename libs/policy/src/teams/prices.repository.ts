import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** A model's price per million tokens, from `setAt` until the next one. */
export interface ModelPrice {
  id: number;
  model: string;
  inputPerMillion: number;
  outputPerMillion: number;
  currency: string;
  setAt: Date;
}

const COLUMNS = `id::int AS id, model, input_per_million::float8 AS "inputPerMillion",
  output_per_million::float8 AS "outputPerMillion", currency, set_at AS "setAt"`;

/**
 * Prices are appended, never changed: the one in force is a model's latest row, and the costs
 * already stored on usage rows keep the price they were computed with.
 */
@Injectable()
export class PricesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The price in force for each model that has one. */
  async current(db: EntityManager = this.dataSource.manager): Promise<ModelPrice[]> {
    return db.query(
      `SELECT DISTINCT ON (model) ${COLUMNS} FROM model_prices ORDER BY model, id DESC`,
    );
  }

  async history(model: string, db: EntityManager = this.dataSource.manager) {
    const rows: ModelPrice[] = await db.query(
      `SELECT ${COLUMNS} FROM model_prices WHERE model = $1 ORDER BY id DESC`,
      [model],
    );
    return rows;
  }

  async add(
    db: EntityManager,
    p: Pick<ModelPrice, 'model' | 'inputPerMillion' | 'outputPerMillion' | 'currency'>,
  ): Promise<ModelPrice> {
    const rows: ModelPrice[] = await db.query(
      `INSERT INTO model_prices (model, input_per_million, output_per_million, currency)
       VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [p.model, p.inputPerMillion, p.outputPerMillion, p.currency],
    );
    return rows[0]!;
  }
}
