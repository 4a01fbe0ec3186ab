import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * One owner per table (docs/architecture.md): the only code with SQL on a table is its owning
 * lib. The SQL is read from the string and template literals of the source (what the code sends
 * to Postgres), so comments and identifiers do not count; migrations and tests are exempt, and so
 * are `scripts/` (benchmark and screenshot seeding, which fills tables as tests do).
 */
const OWNERS: Record<string, string[]> = {
  enclave_settings: ['libs/db'],
  users: ['libs/auth'],
  sessions: ['libs/auth'],
  api_keys: ['libs/auth'],
  oidc_logins: ['libs/auth'],
  sign_in_throttle: ['libs/auth'],
  conversations: ['libs/conversations'],
  messages: ['libs/conversations'],
  feedback: ['libs/conversations'],
  chat_instances: ['libs/conversations'],
  chat_presets: ['libs/conversations'],
  prompt_templates: ['libs/conversations'],
  stored_responses: ['libs/conversations'],
  backends: ['libs/llm'],
  model_aliases: ['libs/llm'],
  backend_health: ['libs/llm'],
  response_cache: ['libs/llm'],
  quotas: ['libs/policy'],
  policy_counters: ['libs/policy'],
  usage_daily: ['libs/policy'],
  usage_events: ['libs/policy'],
  model_access: ['libs/policy'],
  model_prices: ['libs/policy'],
  budgets: ['libs/policy'],
  groups: ['libs/auth'],
  group_members: ['libs/auth'],
  // Appending is libs/audit's (AuditLog inserts the event and queues it for the sealer); everything
  // else on the audit tables is the chain's.
  audit_events: ['libs/audit', 'libs/audit-chain'],
  audit_seal_queue: ['libs/audit', 'libs/audit-chain'],
  audit_chain: ['libs/audit-chain'],
  audit_checkpoints: ['libs/audit-chain'],
  audit_exports: ['libs/audit-chain'],
  audit_verifications: ['libs/audit-chain'],
  audit_export_files: ['libs/audit-chain'],
  audit_legal_holds: ['libs/audit-chain'],
  audit_siem_cursor: ['libs/audit-chain'],
};

/**
 * Violations known and being removed; each must still occur (so a fixed one is struck off here).
 * Nothing else belongs in this list.
 */
const KNOWN_VIOLATIONS: { table: string; file: string; pending: string }[] = [];

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The product's source: apps and libs, without migrations, tests and the browser UIs. */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (['node_modules', 'dist', 'test', 'web', 'migrations'].includes(entry.name)) continue;
        walk(path);
      } else if (
        /\.(ts|mts|mjs|js)$/.test(entry.name) &&
        !/\.(spec|e2e-spec)\.ts$/.test(entry.name)
      ) {
        files.push(relative(ROOT, path));
      }
    }
  };
  walk(join(ROOT, 'apps'));
  walk(join(ROOT, 'libs'));
  return files.sort();
}

/** The tables the migrations create (not the monthly partitions, which belong to their parent). */
function migratedTables(): string[] {
  const dir = join(ROOT, 'libs/db/src/migrations');
  const tables = new Set<string>();
  for (const file of readdirSync(dir)) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const m of text.matchAll(
      /CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)(\$\{[^}]*\})?\s+(PARTITION\s+OF)?/gi,
    )) {
      if (!m[3]) tables.add(m[1]!.toLowerCase());
    }
  }
  return [...tables].sort();
}

/** The text of every string and template literal in a file (a template's holes as `?`). */
function literals(file: string): string[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(join(ROOT, file), 'utf8'),
    ts.ScriptTarget.Latest,
    false,
  );
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) out.push(node.text);
    else if (ts.isTemplateExpression(node)) {
      out.push([node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' ? '));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The tables a piece of SQL reads or writes by name. */
export function tablesNamedIn(sql: string, tables: readonly string[]): string[] {
  return tables.filter((t) =>
    new RegExp(
      String.raw`\b(FROM|JOIN|INTO|UPDATE|DELETE\s+FROM|TRUNCATE(\s+TABLE)?|COPY|USING)\s+(ONLY\s+)?"?${t}"?(?![\w$])`,
      'i',
    ).test(sql),
  );
}

/** TypeORM repositories of a table's entity (`getRepository(X)`, `@InjectRepository(X)`). */
function entityRepositoryUses(file: string, entities: Map<string, string>): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(
    /\b(?:getRepository|InjectRepository|withRepository)\(\s*(\w+|'\w+'|"\w+")/g,
  )) {
    const name = m[1]!.replace(/['"]/g, '');
    const table = entities.get(name) ?? (OWNERS[name] ? name : undefined);
    if (table) found.push(table);
  }
  return found;
}

/** Entity classes by the table they map (`@Entity('table') class X`). */
function entityTables(files: string[]): Map<string, string> {
  const entities = new Map<string, string>();
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(
      /@Entity\(\s*['"](\w+)['"][^)]*\)\s*(?:export\s+)?class\s+(\w+)/g,
    )) {
      entities.set(m[2]!, m[1]!);
    }
  }
  return entities;
}

function violations(): { table: string; file: string }[] {
  const files = sourceFiles();
  const tables = Object.keys(OWNERS);
  const entities = entityTables(files);
  const found: { table: string; file: string }[] = [];
  for (const file of files) {
    const named = new Set([
      ...literals(file).flatMap((sql) => tablesNamedIn(sql, tables)),
      ...entityRepositoryUses(file, entities),
    ]);
    for (const table of named) {
      if (!OWNERS[table]!.some((owner) => file.startsWith(`${owner}/`)))
        found.push({ table, file });
    }
  }
  return found;
}

describe('one owner per table', () => {
  const found = violations();
  const known = (v: { table: string; file: string }) =>
    KNOWN_VIOLATIONS.some((k) => k.table === v.table && k.file === v.file);

  it('gives every table the migrations create an owner', () => {
    expect(migratedTables().filter((t) => !OWNERS[t])).toEqual([]);
  });

  it.each(Object.entries(OWNERS))('has SQL on %s only in %j', (table) => {
    const outside = found.filter((v) => v.table === table && !known(v)).map((v) => v.file);
    expect(outside).toEqual([]);
  });

  it('keeps only known violations that still occur', () => {
    const stale = KNOWN_VIOLATIONS.filter(
      (k) => !found.some((v) => v.table === k.table && v.file === k.file),
    );
    expect(stale).toEqual([]);
  });

  it('recognises SQL naming a table, and not prose or other tables', () => {
    const tables = ['users', 'messages', 'audit_events'];
    expect(tablesNamedIn('SELECT ? FROM users u WHERE id = $1', tables)).toEqual(['users']);
    expect(tablesNamedIn('SELECT 1 FROM conversations c JOIN messages m ON true', tables)).toEqual([
      'messages',
    ]);
    expect(tablesNamedIn('INSERT INTO "users" (email) VALUES ($1)', tables)).toEqual(['users']);
    expect(tablesNamedIn('update users set role = $2', tables)).toEqual(['users']);
    expect(tablesNamedIn('DELETE FROM messages WHERE id = $1', tables)).toEqual(['messages']);
    expect(tablesNamedIn('TRUNCATE TABLE audit_events', tables)).toEqual(['audit_events']);
    expect(tablesNamedIn('COPY audit_events TO STDOUT', tables)).toEqual(['audit_events']);
    expect(tablesNamedIn('DELETE FROM feedback f USING messages m', tables)).toEqual(['messages']);
    expect(tablesNamedIn('SELECT 1 FROM users_archive', tables)).toEqual([]);
    expect(tablesNamedIn('SELECT 1 FROM audit_events_default', tables)).toEqual([]);
    expect(tablesNamedIn('No user has the id ?.', tables)).toEqual([]);
  });
});
