import type { AuditRecord, Checkpoint } from './chain.js';
import { GENESIS_HASH } from './chain.js';
import type { Sql } from '@enclave/db';

/** SQL: a timestamptz as the chain's text of it, ISO-8601 in UTC with microseconds (or NULL). */
export function utcText(expr: string): string {
  return `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** The columns of an event as the chain hashes them (timestamps as UTC text with microseconds). */
export const RECORD_COLUMNS = `
  e.id::text AS id,
  ${utcText('e.occurred_at')} AS "occurredAt",
  e.actor_type AS "actorType", e.actor_id::text AS "actorId", e.actor_label AS "actorLabel",
  e.action, e.target_type AS "targetType", e.target_id AS "targetId", e.outcome,
  e.source_ip AS "sourceIp", e.user_agent AS "userAgent", e.request_id AS "requestId",
  e.payload::text AS "payloadText", encode(e.payload_salt, 'hex') AS "payloadSalt",
  encode(e.payload_hash, 'hex') AS "payloadHash",
  ${utcText('e.redacted_at')} AS "redactedAt"`;

export interface QueuedEvent {
  eventId: string;
  /** Null when the queued event no longer exists. */
  record: (Omit<AuditRecord, 'payloadHash'> & { payloadHash: string | null }) | null;
}

export interface StoredLink {
  pos: number;
  eventId: string;
  leafHash: string;
  hash: string;
  prunedAt: string | null;
  record: AuditRecord | null;
}

export interface ChainHead {
  pos: number;
  hash: string;
}

interface LinkRow extends Omit<AuditRecord, 'id'> {
  pos: string;
  eventId: string;
  leafHash: string;
  hash: string;
  prunedAt: string | null;
  id: string | null;
}

/**
 * The record is built field by field: a rest spread (`...record`) of each row cost more than the
 * rest of the mapping when exporting or verifying (copying with excluded keys is slow in V8).
 */
function toLink(row: LinkRow): StoredLink {
  return {
    pos: Number(row.pos),
    eventId: row.eventId,
    leafHash: row.leafHash,
    hash: row.hash,
    prunedAt: row.prunedAt,
    record:
      row.id === null
        ? null
        : {
            id: row.id,
            occurredAt: row.occurredAt,
            actorType: row.actorType,
            actorId: row.actorId,
            actorLabel: row.actorLabel,
            action: row.action,
            targetType: row.targetType,
            targetId: row.targetId,
            outcome: row.outcome,
            sourceIp: row.sourceIp,
            userAgent: row.userAgent,
            requestId: row.requestId,
            payload: JSON.parse(row.payloadText!),
            payloadText: row.payloadText!,
            payloadSalt: row.payloadSalt,
            payloadHash: row.payloadHash,
            redactedAt: row.redactedAt,
          },
  };
}

function toCheckpoint(row: Record<string, unknown>): Checkpoint {
  return {
    pos: Number(row.pos),
    hash: row.hash as string,
    signedAt: row.signedAt as string,
    keyId: row.keyId as string,
    signature: row.signature as string,
  };
}

const CHECKPOINT_COLUMNS = `k.pos::text AS pos, encode(k.hash, 'hex') AS hash, k.signed_at AS "signedAt",
  k.key_id AS "keyId", k.signature`;

/** The SQL of the audit chain: the seal queue, the links and the checkpoints. */
export class AuditChainRepository {
  constructor(private readonly sql: Sql) {}

  async queued(limit: number): Promise<QueuedEvent[]> {
    const rows = await this.sql<Record<string, unknown>>(
      `SELECT q.event_id::text AS "eventId", ${RECORD_COLUMNS}
         FROM audit_seal_queue q LEFT JOIN audit_events e ON e.id = q.event_id
        ORDER BY q.event_id LIMIT $1`,
      [limit],
    );
    return rows.map(({ eventId, ...record }) => ({
      eventId: eventId as string,
      record:
        record.id === null
          ? null
          : ({
              ...record,
              payload: JSON.parse(record.payloadText as string),
            } as QueuedEvent['record']),
    }));
  }

  async head(): Promise<ChainHead> {
    const rows = await this.sql<{ pos: string; hash: string }>(
      `SELECT pos::text AS pos, encode(hash, 'hex') AS hash FROM audit_chain c ORDER BY c.pos DESC LIMIT 1`,
    );
    return rows[0]
      ? { pos: Number(rows[0].pos), hash: rows[0].hash }
      : { pos: 0, hash: GENESIS_HASH };
  }

  /** Gives events appended before the chain existed their payload hash. */
  async setPayloadHashes(rows: { eventId: string; salt: string; hash: string }[]): Promise<void> {
    if (!rows.length) return;
    await this.sql(
      `UPDATE audit_events e SET payload_salt = decode(u.salt, 'hex'), payload_hash = decode(u.hash, 'hex')
         FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, salt, hash)
        WHERE e.id = u.id AND e.payload_hash IS NULL`,
      [rows.map((r) => r.eventId), rows.map((r) => r.salt), rows.map((r) => r.hash)],
    );
  }

  async appendLinks(
    links: { pos: number; eventId: string; leafHash: string; hash: string }[],
  ): Promise<void> {
    if (!links.length) return;
    await this.sql(
      `INSERT INTO audit_chain (pos, event_id, leaf_hash, hash)
       SELECT u.pos, u.event_id, decode(u.leaf, 'hex'), decode(u.hash, 'hex')
         FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS u(pos, event_id, leaf, hash)`,
      [
        links.map((l) => l.pos),
        links.map((l) => l.eventId),
        links.map((l) => l.leafHash),
        links.map((l) => l.hash),
      ],
    );
  }

  async dequeue(eventIds: string[]): Promise<void> {
    if (!eventIds.length) return;
    await this.sql('DELETE FROM audit_seal_queue WHERE event_id = ANY($1::bigint[])', [eventIds]);
  }

  async insertCheckpoint(cp: Checkpoint): Promise<void> {
    await this.sql(
      `INSERT INTO audit_checkpoints (pos, hash, signed_at, key_id, signature)
       VALUES ($1, decode($2, 'hex'), $3, $4, $5)`,
      [cp.pos, cp.hash, cp.signedAt, cp.keyId, cp.signature],
    );
  }

  async lastCheckpoint(): Promise<Checkpoint | null> {
    const rows = await this.sql(
      `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints k ORDER BY k.pos DESC, k.created_at DESC LIMIT 1`,
    );
    return rows[0] ? toCheckpoint(rows[0]) : null;
  }

  async checkpoints(): Promise<Checkpoint[]> {
    const rows = await this.sql(
      `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints k ORDER BY k.pos, k.created_at`,
    );
    return rows.map(toCheckpoint);
  }

  /** The latest checkpoint at or before pos, and the earliest at or after it. */
  async checkpointAtOrBefore(pos: number): Promise<Checkpoint | null> {
    const rows = await this.sql(
      `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints k WHERE k.pos <= $1 ORDER BY k.pos DESC, k.created_at DESC LIMIT 1`,
      [pos],
    );
    return rows[0] ? toCheckpoint(rows[0]) : null;
  }

  async checkpointAtOrAfter(pos: number): Promise<Checkpoint | null> {
    const rows = await this.sql(
      `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints k WHERE k.pos >= $1 ORDER BY k.pos, k.created_at LIMIT 1`,
      [pos],
    );
    return rows[0] ? toCheckpoint(rows[0]) : null;
  }

  async checkpointsBetween(fromPos: number, toPos: number): Promise<Checkpoint[]> {
    const rows = await this.sql(
      `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints k WHERE k.pos BETWEEN $1 AND $2 ORDER BY k.pos, k.created_at`,
      [fromPos, toPos],
    );
    return rows.map(toCheckpoint);
  }

  /** Links after `afterPos` in order, with their events (keyset pagination: bounded memory). */
  async links(
    afterPos: number,
    limit: number,
    toPos = Number.MAX_SAFE_INTEGER,
  ): Promise<StoredLink[]> {
    // The page of links first, then one index lookup per event: a plain join may pick a hash
    // join that scans every event for every page (quadratic over a long chain). The LIMIT 1
    // keeps the planner from flattening the LATERAL subquery into exactly that join (it did:
    // 90 ms per page of 5,000 at 100,000 events, most of the export's and verifier's time).
    // The upper bound is applied outside the page: with both bounds inside, a chain freshly sealed
    // (not yet analysed) is estimated at a few rows per range, and Postgres read the whole rest of
    // the range into a bitmap and sorted it for every page (57 ms instead of 9 ms per page at
    // 400,000 events, growing with the chain). One bound keeps it an ordered index scan.
    const rows = await this.sql<LinkRow>(
      `SELECT c.pos::text AS pos, c.event_id::text AS "eventId",
              encode(c.leaf_hash, 'hex') AS "leafHash", encode(c.hash, 'hex') AS hash,
              ${utcText('c.pruned_at')} AS "prunedAt", e.*
         FROM (SELECT * FROM audit_chain WHERE pos > $1 ORDER BY pos LIMIT $2) c
         LEFT JOIN LATERAL (SELECT ${RECORD_COLUMNS} FROM audit_events e WHERE e.id = c.event_id LIMIT 1) e
           ON true
        WHERE c.pos <= $3
        ORDER BY c.pos`,
      [afterPos, limit, toPos],
    );
    return rows.map(toLink);
  }

  /**
   * The links after `afterPos` up to `toPos` with their events, a page at a time. The next page is
   * asked for before this one is handed out, so Postgres reads while the caller hashes.
   */
  async *pages(afterPos: number, size: number, toPos?: number): AsyncGenerator<StoredLink[]> {
    let next = this.links(afterPos, size, toPos);
    for (;;) {
      const page = await next;
      if (page.length === size) next = this.links(page[page.length - 1]!.pos, size, toPos);
      if (page.length) yield page;
      if (page.length < size) return;
    }
  }

  /** Events that are neither sealed nor waiting to be: written around AuditLog.append. */
  async unchainedEvents(limit: number): Promise<string[]> {
    const rows = await this.sql<{ id: string }>(
      `SELECT e.id::text AS id FROM audit_events e
        WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id)
          AND NOT EXISTS (SELECT 1 FROM audit_seal_queue q WHERE q.event_id = e.id)
        ORDER BY e.id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  async queueStats(): Promise<{ unsealed: number; oldestQueuedSeconds: number | null }> {
    const [row] = await this.sql<{ n: number; age: number | null }>(
      `SELECT count(*)::int AS n, extract(epoch FROM now() - min(queued_at))::float8 AS age
         FROM audit_seal_queue`,
    );
    return { unsealed: row!.n, oldestQueuedSeconds: row!.age };
  }
}
