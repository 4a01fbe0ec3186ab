import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The running chat processes (chat_instances): who serves which messages, last seen when. */
@Injectable()
export class ChatInstancesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Says this process is alive (and registers it the first time, or after a restore). */
  async beat(id: string, name: string, pid: number): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO chat_instances (id, name, pid) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET seen_at = now()`,
      [id, name, pid],
    );
  }

  /** Forgets instances not seen for a day and with nothing left in progress. */
  async deleteForgotten(): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM chat_instances i
        WHERE i.seen_at < now() - interval '1 day'
          AND NOT EXISTS (SELECT 1 FROM messages m
                           WHERE m.instance_id = i.id AND m.outcome = 'in_progress')`,
    );
  }

  async remove(id: string): Promise<void> {
    await this.dataSource.query('DELETE FROM chat_instances WHERE id = $1', [id]);
  }
}
