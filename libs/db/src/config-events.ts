import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type Config, InjectConfig } from '@enclave/config';
import { PeriodicTask } from '@enclave/observability';
import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { databaseUrl } from './data-source.js';
import { pgClient } from './postgres-connection.js';

/** What changed, so each listener reloads only what it caches. */
export type ConfigTopic = 'auth' | 'backends' | 'policies' | 'settings';

const CHANNEL = 'enclave_config';
const RECONNECT_MS = 1_000;
/** A safety net: reload everything this often even if a notification was lost. */
const RESYNC_EVERY_MS = 30_000;

/**
 * Tells every running instance that configuration changed. Call it inside the transaction that
 * makes the change: Postgres delivers the notification only when (and if) it commits.
 */
export async function notifyConfigChanged(
  db: DataSource | EntityManager,
  topic: ConfigTopic,
): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [CHANNEL, topic]);
}

/**
 * Live configuration across instances with the Postgres Enclave already has (no Redis): one
 * LISTEN connection per process; listeners are called for their topic, and for every topic after
 * a reconnect (notifications sent while disconnected are lost) and every 30 s as a safety net.
 */
@Injectable()
export class ConfigEvents implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('ConfigEvents');
  private readonly listeners = new Map<ConfigTopic, Set<() => void | Promise<void>>>();
  private client: pg.Client | null = null;
  private stopped = false;
  private readonly resync = new PeriodicTask(() => this.emitAll(), {
    name: 'config resync',
    everyMs: RESYNC_EVERY_MS,
    log: this.log,
  });

  constructor(@InjectConfig() private readonly config: Config) {}

  on(topic: ConfigTopic, listener: () => void | Promise<void>): void {
    if (!this.listeners.has(topic)) this.listeners.set(topic, new Set());
    this.listeners.get(topic)!.add(listener);
  }

  async onModuleInit(): Promise<void> {
    await this.connect();
    this.resync.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.resync.stop();
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = pgClient(databaseUrl(this.config), {
      application_name: 'enclave-config-events',
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
    });
    client.on('notification', (msg) => {
      if (msg.channel === CHANNEL) this.emit(msg.payload as ConfigTopic);
    });
    client.on('error', (err) => this.log.warn({ err }, 'config listener lost; reconnecting'));
    client.on('end', () => {
      if (this.client === client) this.client = null;
      if (!this.stopped) setTimeout(() => void this.reconnect(), RECONNECT_MS).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.client = client;
    } catch (err) {
      this.log.warn({ err }, 'config listener cannot connect; retrying');
      await client.end().catch(() => undefined);
    }
  }

  private async reconnect(): Promise<void> {
    if (this.stopped || this.client) return;
    await this.connect();
    // Whatever was announced while we were away is unknown: reload everything.
    if (this.client) this.emitAll();
  }

  private emitAll(): void {
    for (const topic of this.listeners.keys()) this.emit(topic);
  }

  private emit(topic: ConfigTopic): void {
    for (const listener of this.listeners.get(topic) ?? []) {
      Promise.resolve()
        .then(listener)
        .catch((err: unknown) => this.log.error({ err, topic }, 'config listener failed'));
    }
  }
}
