import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface ReplicaRow {
  name: string;
  clientAddr: string | null;
  state: string;
  syncState: string;
  replayLagSeconds: number | null;
}

/** The replication state the dashboard shows (the traffic figures are libs/conversations'). */
@Injectable()
export class DashboardRepository {
  private readonly log = new Logger('Dashboard');

  constructor(private readonly dataSource: DataSource) {}

  /**
   * The standbys streaming from this server (empty when there are none, when this is a standby
   * itself, or on the embedded database).
   */
  async replication(): Promise<ReplicaRow[]> {
    try {
      return await this.dataSource.query(
        `SELECT application_name AS name, host(client_addr) AS "clientAddr", state,
                sync_state AS "syncState",
                extract(epoch FROM replay_lag)::float8 AS "replayLagSeconds"
           FROM pg_stat_replication ORDER BY application_name, client_addr`,
      );
    } catch (err) {
      this.log.warn({ err }, 'replication status unavailable');
      return [];
    }
  }
}
