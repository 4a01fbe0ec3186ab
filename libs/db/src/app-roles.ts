import { randomBytes } from 'node:crypto';
import type pg from 'pg';

/**
 * The database role of each app (docs/audit.md, "Database roles"): chat and admin may append
 * audit events but never change them; the audit app's role is granted the owner (it seals,
 * prunes, drops partitions, stores exports); migrations run as the owner.
 */
export const APP_ROLES = {
  chat: 'enclave_chat',
  admin: 'enclave_admin',
  audit: 'enclave_audit',
} as const;

export type AppName = keyof typeof APP_ROLES;

export interface AppRole {
  app: AppName;
  role: string;
  /** What to hand the app as its DATABASE_URL. */
  url: string;
  created: boolean;
}

const DUPLICATE = new Set(['42710', '23505']);

/**
 * Creates (or, when they exist, gives new passwords to) the three app roles and grants them on
 * the database behind `client`, which must be migrated and connected as a role that may create
 * roles (the owner with CREATEROLE, or a superuser). `databaseUrl` is the URL of that connection:
 * each role's URL is it with the role's name and password.
 */
export async function createAppRoles(
  client: pg.ClientBase,
  databaseUrl: string,
  passwords: Partial<Record<AppName, string>> = {},
): Promise<AppRole[]> {
  const [owner] = (
    await client.query<{ owner: string; superuser: boolean }>(
      `SELECT r.rolname AS owner, r.rolsuper AS superuser
         FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
        WHERE c.oid = to_regclass('enclave_migrations')`,
    )
  ).rows;
  if (!owner) {
    throw new Error('the database has no enclave_migrations table; run `enclave migrate` first');
  }
  if (owner.superuser) {
    throw new Error(
      `the tables are owned by the superuser ${owner.owner}; the audit role is granted the owner, so create a dedicated owner role (docs/audit.md) and migrate as it`,
    );
  }
  const roles: AppRole[] = [];
  for (const app of Object.keys(APP_ROLES) as AppName[]) {
    const role = APP_ROLES[app];
    const password = passwords[app] ?? randomBytes(24).toString('base64url');
    const created = await createOrAlter(client, role, password);
    roles.push({ app, role, url: withCredentials(databaseUrl, role, password), created });
  }
  const quote = async (sql: string, ...args: string[]) => {
    const { rows } = await client.query<{ q: string }>(`SELECT format(${sql}) AS q`, args);
    await client.query(rows[0]!.q);
  };
  for (const { role } of roles) {
    await quote(`'GRANT CONNECT ON DATABASE %I TO %I', current_database(), $1::text`, role);
  }
  // Objects enclave_audit creates (partitions) then belong to the owner, as the migrations' do.
  try {
    await quote(`'GRANT %I TO %I', $1::text, $2::text`, owner.owner, APP_ROLES.audit);
  } catch (err) {
    if ((err as { code?: string }).code !== '42501') throw err;
    // PostgreSQL 16 and later: a role may no longer grant membership in itself.
    throw new Error(
      `${owner.owner} may not grant itself to ${APP_ROLES.audit} (PostgreSQL 16+); run \`enclave db create-roles\` with a superuser's DATABASE_URL`,
      { cause: err },
    );
  }
  await quote(
    `'ALTER ROLE %I IN DATABASE %I SET role = %I', $1::text, current_database(), $2::text`,
    APP_ROLES.audit,
    owner.owner,
  );
  await client.query('SELECT enclave_grant_app_roles()');
  return roles;
}

/**
 * Lets enclave_admin read the details of pg_stat_replication (the dashboard's standbys, their
 * state and lag), which Postgres shows only to members of pg_read_all_stats. Only a superuser
 * (or a role with ADMIN on it) may grant that: false when `client` may not.
 */
export async function grantReplicationStats(client: pg.ClientBase): Promise<boolean> {
  try {
    await client.query(`GRANT pg_read_all_stats TO ${APP_ROLES.admin}`);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code !== '42501') throw err;
    return false;
  }
}

async function createOrAlter(client: pg.ClientBase, role: string, password: string) {
  const run = async (verb: 'CREATE' | 'ALTER') => {
    const { rows } = await client.query<{ q: string }>(
      `SELECT format('${verb} ROLE %I LOGIN PASSWORD %L', $1::text, $2::text) AS q`,
      [role, password],
    );
    await client.query(rows[0]!.q);
  };
  try {
    await run('CREATE');
    return true;
  } catch (err) {
    if (!DUPLICATE.has((err as { code?: string }).code ?? '')) throw err;
    await run('ALTER');
    return false;
  }
}

/**
 * The URL with another user and password. Not through `URL`: a URL naming several hosts
 * (`postgres://u:p@db1:5432,db2:5432/enclave`, see PrimaryFinder) is not one it accepts.
 */
export function withCredentials(databaseUrl: string, user: string, password: string): string {
  const m = /^(postgres(?:ql)?:\/\/)(?:[^@/]*@)?(.*)$/.exec(databaseUrl);
  if (!m) throw new Error('DATABASE_URL is not a postgres:// URL');
  return `${m[1]}${encodeURIComponent(user)}:${encodeURIComponent(password)}@${m[2]}`;
}
