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

  /** Moves the cursor forward (never back: a stale writer cannot undo a newer one's progress). */
  async advance(receiver: string, pos: number): Promise<void> {
    await this.sql(
      `UPDATE audit_siem_cursor SET pos = $2, updated_at = now()
        WHERE receiver = $1 AND pos < $2`,
      [receiver, pos],
    );
  }
}
