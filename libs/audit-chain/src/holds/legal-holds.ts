import type { RequestMeta } from '@enclave/http';
import { ApiError } from '@enclave/http';
import type { EntityManager } from 'typeorm';
import { type AuditActor, AuditLog } from '@enclave/audit';
import { sqlOf, type Sql } from '@enclave/db';

/**
 * A legal hold: while active, the audit events (and conversation messages) it covers are neither
 * removed by retention nor erased. It covers a user (as actor or subject of an event, as owner
 * of a message), a time range, or a user within a time range.
 */
export interface LegalHold {
  id: string;
  userId: string | null;
  /** The held user's email (null for a time-range hold, or once the user is deleted). */
  userEmail: string | null;
  from: string | null;
  to: string | null;
  reason: string;
  createdBy: string | null;
  createdAt: string;
  releasedAt: string | null;
  releasedBy: string | null;
  active: boolean;
}

const HOLD_COLUMNS = `h.id, h.user_id AS "userId", h.from_at AS "from", h.to_at AS "to", h.reason,
  h.created_by AS "createdBy", h.created_at AS "createdAt", h.released_at AS "releasedAt",
  h.released_by AS "releasedBy", h.released_at IS NULL AS active`;

function toHold(row: Record<string, unknown>, emails: Map<string, string>): LegalHold {
  const iso = (v: unknown) => (v === null ? null : new Date(v as string).toISOString());
  const userId = (row.userId as string | null) ?? null;
  return {
    id: row.id as string,
    userId,
    userEmail: (userId && emails.get(userId)) ?? null,
    from: iso(row.from),
    to: iso(row.to),
    reason: row.reason as string,
    createdBy: (row.createdBy as string | null) ?? null,
    createdAt: iso(row.createdAt)!,
    releasedAt: iso(row.releasedAt),
    releasedBy: (row.releasedBy as string | null) ?? null,
    active: row.active as boolean,
  };
}

/** SQL: whether the active hold `h` covers the audit event `e` (user as actor or subject, time). */
export const HOLD_COVERS_EVENT = `h.released_at IS NULL
  AND (h.user_id IS NULL OR h.user_id = e.actor_id
       OR (e.target_type = 'user' AND e.target_id = h.user_id::text))
  AND (h.from_at IS NULL OR e.occurred_at >= h.from_at)
  AND (h.to_at IS NULL OR e.occurred_at < h.to_at)`;

/** SQL: whether any active hold covers the audit event `e`. Retention and erasure share it. */
export const EVENT_HELD = `EXISTS (SELECT 1 FROM audit_legal_holds h WHERE ${HOLD_COVERS_EVENT})`;

/**
 * SQL: whether the active hold `h` covers a record kept outside the audit trail (a message, a
 * conversation): `user` names the column of its owner, `from` and `to` the columns of its time
 * span (one column for a point in time). The code that owns such records applies holds with it
 * without knowing how they are stored.
 */
export function holdCoversRecord(user: string, from: string, to: string = from): string {
  return `h.released_at IS NULL
  AND (h.user_id IS NULL OR h.user_id = ${user})
  AND (h.from_at IS NULL OR ${to} >= h.from_at)
  AND (h.to_at IS NULL OR ${from} < h.to_at)`;
}

/** SQL: whether any active hold covers the record (see `holdCoversRecord`). */
export function recordHeld(user: string, from: string, to: string = from): string {
  return `EXISTS (SELECT 1 FROM audit_legal_holds h WHERE ${holdCoversRecord(user, from, to)})`;
}

export interface NewLegalHold {
  userId: string | null;
  from: Date | null;
  to: Date | null;
  reason: string;
}

/** The emails of users by id: libs/auth's UsersRepository, which owns `users`. */
export interface HoldUsers {
  emailsOf(ids: readonly string[], db?: EntityManager): Promise<Map<string, string>>;
}

/** Legal holds: listed, created and released by an admin, each change audited. */
export class LegalHolds {
  constructor(
    private readonly users: HoldUsers,
    private readonly audit: AuditLog = new AuditLog(),
  ) {}

  async list(sql: Sql): Promise<LegalHold[]> {
    const rows = await sql(
      `SELECT ${HOLD_COLUMNS} FROM audit_legal_holds h
        ORDER BY h.released_at IS NULL DESC, h.created_at DESC`,
    );
    const emails = await this.users.emailsOf(
      rows.flatMap((r) => (r.userId ? [r.userId as string] : [])),
    );
    return rows.map((r) => toHold(r, emails));
  }

  async create(
    db: EntityManager,
    hold: NewLegalHold,
    actor: AuditActor,
    meta: RequestMeta | null = null,
  ): Promise<LegalHold> {
    const sql = sqlOf(db);
    const emails = await this.users.emailsOf(hold.userId ? [hold.userId] : [], db);
    if (hold.userId) {
      if (!emails.has(hold.userId)) {
        throw new ApiError(404, 'user_not_found', `No user has the id ${hold.userId}.`, {
          param: 'userId',
        });
      }
    }
    const [row] = await sql(
      `INSERT INTO audit_legal_holds AS h (user_id, from_at, to_at, reason, created_by)
       VALUES ($1, $2, $3, $4, $5) RETURNING ${HOLD_COLUMNS}`,
      [hold.userId, hold.from, hold.to, hold.reason, actor.id ?? null],
    );
    const created = toHold(row!, emails);
    await this.audit.append(db, {
      actor,
      action: 'audit.hold.created',
      target: { type: 'audit_hold', id: created.id },
      outcome: 'success',
      meta,
      payload: { after: holdSummary(created) },
    });
    return created;
  }

  async release(
    db: EntityManager,
    id: string,
    actor: AuditActor,
    meta: RequestMeta | null = null,
  ): Promise<LegalHold> {
    const sql = sqlOf(db);
    const [row] = await sql(
      `SELECT ${HOLD_COLUMNS} FROM audit_legal_holds h WHERE h.id = $1 FOR UPDATE`,
      [id],
    );
    if (!row) throw new ApiError(404, 'hold_not_found', `No legal hold has the id ${id}.`);
    const emails = await this.users.emailsOf(row.userId ? [row.userId as string] : [], db);
    const before = toHold(row, emails);
    if (!before.active) {
      throw new ApiError(
        409,
        'hold_already_released',
        `The legal hold ${id} was already released at ${before.releasedAt}.`,
      );
    }
    const [updated] = await sql(
      `UPDATE audit_legal_holds h SET released_at = now(), released_by = $2
        WHERE h.id = $1 RETURNING ${HOLD_COLUMNS}`,
      [id, actor.id ?? null],
    );
    const after = toHold(updated!, emails);
    await this.audit.append(db, {
      actor,
      action: 'audit.hold.released',
      target: { type: 'audit_hold', id },
      outcome: 'success',
      meta,
      payload: { before: holdSummary(before), after: holdSummary(after) },
    });
    return after;
  }
}

function holdSummary(h: LegalHold) {
  return {
    userId: h.userId,
    from: h.from,
    to: h.to,
    reason: h.reason,
    active: h.active,
    releasedAt: h.releasedAt,
  };
}
