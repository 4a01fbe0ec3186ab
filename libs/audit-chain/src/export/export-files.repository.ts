import { open } from 'node:fs/promises';
import type { Sql } from '@enclave/db';

/** The files of an export, by what the API calls them. */
export type ExportFileKind = 'data' | 'manifest' | 'links';

/** 1 MiB a row: large enough for few rows, small enough to stream a download with flat memory. */
const CHUNK_BYTES = 1 << 20;
/** Rows per read while streaming. */
const READ_CHUNKS = 4;

/**
 * The files of exports made through the API, kept in Postgres (`audit_export_files`, in chunks)
 * so the admin app on any host serves a download, whichever host's audit app wrote the export.
 */
export class ExportFilesRepository {
  constructor(private readonly sql: Sql) {}

  /** Stores the file at `path` as `file` of export `exportId` (call inside a transaction). */
  async store(exportId: string, file: ExportFileKind, path: string): Promise<number> {
    const handle = await open(path, 'r');
    let seq = 0;
    let bytes = 0;
    try {
      for (;;) {
        const buf = Buffer.alloc(CHUNK_BYTES);
        const { bytesRead } = await handle.read(buf, 0, CHUNK_BYTES);
        // One row even for an empty file: its presence says the file is stored here.
        if (bytesRead === 0 && seq > 0) break;
        await this.sql(
          'INSERT INTO audit_export_files (export_id, file, seq, bytes) VALUES ($1, $2, $3, $4)',
          [exportId, file, seq++, buf.subarray(0, bytesRead)],
        );
        bytes += bytesRead;
        if (bytesRead < CHUNK_BYTES) break;
      }
    } finally {
      await handle.close();
    }
    return bytes;
  }

  /** The size of a stored file, or null when it is not stored (an export from before). */
  async size(exportId: string, file: ExportFileKind): Promise<number | null> {
    const [row] = await this.sql<{ chunks: number; bytes: string | null }>(
      `SELECT count(*)::int AS chunks, sum(length(bytes))::text AS bytes
         FROM audit_export_files WHERE export_id = $1 AND file = $2`,
      [exportId, file],
    );
    return row && row.chunks > 0 ? Number(row.bytes ?? 0) : null;
  }

  /** The stored file's bytes, a few chunks per query. */
  async *read(exportId: string, file: ExportFileKind): AsyncGenerator<Buffer> {
    for (let seq = 0; ; seq += READ_CHUNKS) {
      const rows = await this.sql<{ bytes: Buffer }>(
        `SELECT bytes FROM audit_export_files
          WHERE export_id = $1 AND file = $2 AND seq >= $3 ORDER BY seq LIMIT ${READ_CHUNKS}`,
        [exportId, file, seq],
      );
      for (const row of rows) if (row.bytes.length) yield row.bytes;
      if (rows.length < READ_CHUNKS) return;
    }
  }
}
