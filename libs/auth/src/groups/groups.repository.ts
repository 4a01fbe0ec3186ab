import { Injectable } from '@nestjs/common';
import { queryRows } from '@enclave/db';
import { DataSource, type EntityManager } from 'typeorm';

export interface Group {
  id: string;
  name: string;
  description: string | null;
  memberCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export type MembershipVia = 'manual' | 'sso';

export interface GroupMember {
  userId: string;
  email: string;
  via: MembershipVia;
  since: Date;
}

const COLUMNS = `g.id, g.name, g.description, g.created_at AS "createdAt", g.updated_at AS "updatedAt",
  (SELECT count(*)::int FROM group_members m WHERE m.group_id = g.id) AS "memberCount"`;

/** Groups (teams, departments) and who is in them: the only code with SQL on both tables. */
@Injectable()
export class GroupsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async list(db: EntityManager = this.dataSource.manager): Promise<Group[]> {
    return db.query(`SELECT ${COLUMNS} FROM groups g ORDER BY lower(g.name)`);
  }

  /** With `forUpdate`, the row stays locked until the caller's transaction ends. */
  async findById(
    id: string,
    db: EntityManager = this.dataSource.manager,
    opts: { forUpdate?: boolean } = {},
  ): Promise<Group | null> {
    const rows: Group[] = await db.query(
      `SELECT ${COLUMNS} FROM groups g WHERE g.id = $1${opts.forUpdate ? ' FOR UPDATE OF g' : ''}`,
      [id],
    );
    return rows[0] ?? null;
  }

  async findByName(
    name: string,
    db: EntityManager = this.dataSource.manager,
  ): Promise<Group | null> {
    const rows: Group[] = await db.query(
      `SELECT ${COLUMNS} FROM groups g WHERE lower(g.name) = lower($1)`,
      [name.trim()],
    );
    return rows[0] ?? null;
  }

  /** null when the name is taken (names are unique regardless of case). */
  async insert(
    db: EntityManager,
    g: { name: string; description: string | null },
  ): Promise<Group | null> {
    const rows: { id: string }[] = await db.query(
      `INSERT INTO groups (name, description) VALUES ($1, $2)
       ON CONFLICT DO NOTHING RETURNING id`,
      [g.name, g.description],
    );
    return rows[0] ? this.findById(rows[0].id, db) : null;
  }

  async update(
    db: EntityManager,
    id: string,
    g: { name?: string; description?: string | null },
  ): Promise<Group | null> {
    const rows = await queryRows<{ id: string }>(
      db,
      `UPDATE groups SET name = coalesce($2, name),
              description = CASE WHEN $3::boolean THEN $4 ELSE description END, updated_at = now()
        WHERE id = $1 RETURNING id`,
      [id, g.name ?? null, g.description !== undefined, g.description ?? null],
    );
    return rows[0] ? this.findById(id, db) : null;
  }

  async delete(db: EntityManager, id: string): Promise<boolean> {
    const rows = await queryRows(db, 'DELETE FROM groups WHERE id = $1 RETURNING 1', [id]);
    return rows.length > 0;
  }

  async members(groupId: string, db: EntityManager = this.dataSource.manager) {
    const rows: GroupMember[] = await db.query(
      `SELECT m.user_id AS "userId", u.email, m.via, m.created_at AS since
         FROM group_members m JOIN users u ON u.id = m.user_id
        WHERE m.group_id = $1 ORDER BY u.email`,
      [groupId],
    );
    return rows;
  }

  /** false when the user already was a member. */
  async addMember(
    db: EntityManager,
    groupId: string,
    userId: string,
    via: MembershipVia,
  ): Promise<boolean> {
    const rows = await queryRows(
      db,
      `INSERT INTO group_members (group_id, user_id, via) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [groupId, userId, via],
    );
    return rows.length > 0;
  }

  async removeMember(db: EntityManager, groupId: string, userId: string): Promise<boolean> {
    const rows = await queryRows(
      db,
      'DELETE FROM group_members WHERE group_id = $1 AND user_id = $2 RETURNING 1',
      [groupId, userId],
    );
    return rows.length > 0;
  }

  /** A user's groups with how they joined each. */
  async groupsOfUser(
    userId: string,
    db: EntityManager = this.dataSource.manager,
  ): Promise<{ id: string; name: string; via: MembershipVia }[]> {
    return db.query(
      `SELECT g.id, g.name, m.via FROM group_members m JOIN groups g ON g.id = m.group_id
        WHERE m.user_id = $1 ORDER BY lower(g.name)`,
      [userId],
    );
  }

  /** Every membership, for the in-memory model access and budget checks of libs/policy. */
  async allMemberships(
    db: EntityManager = this.dataSource.manager,
  ): Promise<{ userId: string; groupId: string }[]> {
    return db.query('SELECT user_id AS "userId", group_id AS "groupId" FROM group_members');
  }

  /**
   * The names of these groups by id (ids that do not exist are left out). With `keep`, the rows
   * are locked against deletion until the caller's transaction ends (as a foreign key to them
   * would), so what it then writes can name them.
   */
  async namesOf(
    ids: readonly string[],
    db: EntityManager = this.dataSource.manager,
    opts: { keep?: boolean } = {},
  ): Promise<Map<string, string>> {
    if (!ids.length) return new Map();
    const rows: { id: string; name: string }[] = await db.query(
      `SELECT id, name FROM groups WHERE id = ANY($1::uuid[])${opts.keep ? ' FOR KEY SHARE' : ''}`,
      [[...new Set(ids)]],
    );
    return new Map(rows.map((r) => [r.id, r.name]));
  }
}
