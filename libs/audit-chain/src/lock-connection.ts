import { pgClient } from '@enclave/db';
import type pg from 'pg';

/** The longest one statement of the sealer or the SIEM forwarder may take. */
export const STATEMENT_TIMEOUT_MS = 30_000;

/**
 * The dedicated connection a session advisory lock lives on (the sealer's, the SIEM
 * forwarder's): opened on first use, closed on stand-down. Postgres releases the lock when it
 * ends, so whoever loses it has lost the lock and a standby may take over.
 */
export class LockConnection {
  private client: pg.Client | null = null;

  constructor(
    private readonly databaseUrl: string,
    private readonly applicationName: string,
    private readonly onError: (err: Error) => void,
  ) {}

  /** The open connection, if there is one. */
  get current(): pg.Client | null {
    return this.client;
  }

  async open(): Promise<pg.Client> {
    if (this.client) return this.client;
    // pgClient follows the primary when DATABASE_URL names several hosts.
    const client = pgClient(this.databaseUrl, {
      application_name: this.applicationName,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
      // A round that hangs (a lock it waits on, a server that stopped answering) fails instead of
      // stalling the loop in silence: the loop logs it, reconnects and goes on.
      statement_timeout: STATEMENT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS + 5_000,
      idle_in_transaction_session_timeout: STATEMENT_TIMEOUT_MS,
    });
    client.on('error', this.onError);
    await client.connect();
    this.client = client;
    return client;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
