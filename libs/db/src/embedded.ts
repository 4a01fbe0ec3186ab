import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** A postgres:// URL the normal `pg` driver (and TypeORM) can use. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** A directory for the data files, or 'memory://' for a throwaway database. */
  dataDir: string;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Sockets served at once; PGlite still runs one query at a time (transactions are kept whole). */
  maxConnections?: number;
}

export function embeddedDatabaseUrl(port: number, host = '127.0.0.1'): string {
  return `postgres://postgres@${host}:${port}/postgres`;
}

/** The embedded data directory under ENCLAVE_DATA_DIR. */
export function embeddedDataDir(dataDir: string): string {
  return join(resolve(dataDir), 'pglite');
}

/**
 * Runs PGlite (Postgres compiled to WebAssembly) in this process and serves it over the Postgres
 * wire protocol on loopback, so every app talks to it with the same driver as to a real server.
 * One process owns it; the others connect.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const host = options.host ?? '127.0.0.1';
  if (options.dataDir !== 'memory://') mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  const server = new PGLiteSocketServer({
    db,
    host,
    port: options.port,
    maxConnections: options.maxConnections ?? 100,
  });
  await server.start();
  const port = listeningPort(server, options.port);
  return {
    url: embeddedDatabaseUrl(port, host),
    port,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

function listeningPort(server: PGLiteSocketServer, requested: number): number {
  if (requested !== 0) return requested;
  const conn = server.getServerConn(); // "host:port" once listening
  const port = Number(conn.split(':').pop());
  if (!Number.isInteger(port) || port <= 0)
    throw new Error(`cannot tell the embedded port from ${conn}`);
  return port;
}
