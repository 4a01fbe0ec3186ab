import type { Sql } from '@enclave/db';

/** The forwarding cursor: per receiver, the last chain position it is known to have. */
export class SiemCursorRepository {
  constructor(private readonly sql: Sql) {}

  /** The receiver's position, starting at 0 (the whole chain) for a receiver never seen. */
  async load(receiver: string): Promise<number> {
    await this.sql(
      'INSERT INTO audit_siem_cursor (receiver) VALUES ($1) ON CONFLICT (receiver) DO NOTHING',
      [receiver],
    );
    const [row] = await this.sql<{ pos: string }>(
      'SELECT pos::text AS pos FROM audit_siem_cursor WHERE receiver = $1',
      [receiver],
    );
    return Number(row!.pos);
  }

  /** The receiver's cursor and when it last moved; null for a receiver never forwarded to. */
  async position(receiver: string): Promise<{ pos: number; idleSeconds: number } | null> {
    const [row] = await this.sql<{ pos: string; idle: number }>(
      `SELECT pos::text AS pos, extract(epoch FROM now() - updated_at)::float8 AS idle
         FROM audit_siem_cursor WHERE receiver = $1`,
      [receiver],
    );
    return row ? { pos: Number(row.pos), idleSeconds: row.idle } : null;
  }

  /** Moves the cursor forward (never back: a stale writer cannot undo a newer one's progress). */
  async advance(receiver: string, pos: number): Promise<void> {
    await this.sql(
      `UPDATE audit_siem_cursor SET pos = $2, updated_at = now()
        WHERE receiver = $1 AND pos < $2`,
      [receiver, pos],
    );
  }
}
