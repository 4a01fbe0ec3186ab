import type { Sql } from '@enclave/db';

export interface CheckpointSigner {
  keyId: string;
  first: string;
  last: string;
}

/** Each key that signed checkpoints, with its first and last signing time (oldest key first). */
export function checkpointSigners(sql: Sql): Promise<CheckpointSigner[]> {
  return sql<CheckpointSigner>(
    `SELECT key_id AS "keyId", min(signed_at) AS first, max(signed_at) AS last
       FROM audit_checkpoints GROUP BY key_id ORDER BY min(signed_at)`,
  );
}
