import { type Command, Option } from 'commander';
import type { DataSource } from 'typeorm';
import { type AuditActor, AuditLog } from '@enclave/audit';
import {
  ApiKeyService,
  ApiKeysRepository,
  CredentialCache,
  expiryAfter,
  ROLES,
  type Role,
  SessionsRepository,
  type User,
  UsersRepository,
  UsersService,
} from '@enclave/auth';
import { loadConfigOrExit } from '@enclave/config';
import { withMigratedDatabase } from './database.js';

/** How the command line appears in the audit trail. */
const CLI_ACTOR: AuditActor = { type: 'system', label: 'cli' };

/** The auth services on a plain DataSource: no Nest, just their constructors. */
function accounts(ds: DataSource) {
  const users = new UsersRepository(ds);
  const sessions = new SessionsRepository(ds);
  const keys = new ApiKeysRepository(ds);
  const audit = new AuditLog();
  // The CLI authenticates nobody: its credential cache never fills, so it needs no events.
  const credentials = new CredentialCache(keys, sessions, { on: () => undefined });
  return {
    users,
    usersService: new UsersService(ds, users, sessions, audit),
    keys: new ApiKeyService(keys, users, ds, audit, credentials),
  };
}

async function userByEmail(users: UsersRepository, email: string): Promise<User> {
  const user = await users.findByEmail(email);
  if (!user) throw new Error(`no user with email ${email.trim().toLowerCase()}`);
  return user;
}

/** All of stdin, less the one newline that `echo` or a here-string adds. */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password (then Enter and Ctrl-D): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function registerAccountCommands(program: Command): void {
  const user = program.command('user').description('manage user accounts');

  user
    .command('add <email>')
    .description('create a user; prints a generated one-time password unless --password-stdin')
    .addOption(
      new Option('--role <role>', 'what the user may do').choices(ROLES).makeOptionMandatory(),
    )
    .option('--password-stdin', 'read the password from stdin (at least 12 characters)')
    .option('--name <display name>', 'the name shown in the consoles')
    .action(async (email: string, opts: { role: Role; passwordStdin?: boolean; name?: string }) => {
      const password = opts.passwordStdin ? await readStdin() : null;
      await withMigratedDatabase(loadConfigOrExit(), async (ds) => {
        const { user, generatedPassword } = await accounts(ds).usersService.create(
          { email, role: opts.role, password, displayName: opts.name ?? null },
          CLI_ACTOR,
          null,
        );
        console.log(
          generatedPassword
            ? `created ${user.email} (${user.role}); one-time password: ${generatedPassword}`
            : `created ${user.email} (${user.role})`,
        );
      });
    });

  user
    .command('list')
    .description('list users: email, role, state')
    .action(async () => {
      await withMigratedDatabase(loadConfigOrExit(), async (ds) => {
        for (const u of await accounts(ds).usersService.list()) {
          const state = u.disabledAt
            ? 'disabled'
            : u.lockedUntil && u.lockedUntil > new Date()
              ? 'locked'
              : 'active';
          console.log(`${u.email}\t${u.role}\t${state}`);
        }
      });
    });

  user
    .command('reset-password <email>')
    .description('replace the password with a generated one-time password; ends their sessions')
    .action(async (email: string) => {
      await withMigratedDatabase(loadConfigOrExit(), async (ds) => {
        const { users, usersService } = accounts(ds);
        const target = await userByEmail(users, email);
        const password = await usersService.resetPassword(target.id, CLI_ACTOR, null);
        console.log(`reset ${target.email}; one-time password: ${password}`);
      });
    });

  const key = program.command('key').description('manage API keys');

  key
    .command('create <email>')
    .description('create an API key for the user and print it (alone, on one line)')
    .option('--name <name>', 'what the key is for', 'cli')
    .option('--models <models>', 'comma-separated models the key may use (default: all)')
    .option('--expires <duration>', 'expire after e.g. 90m, 12h or 30d (default: never)')
    .action(async (email: string, opts: { name: string; models?: string; expires?: string }) => {
      const models =
        opts.models === undefined
          ? null
          : opts.models
              .split(',')
              .map((m) => m.trim())
              .filter(Boolean);
      const expiresAt = expiryAfter(opts.expires);
      await withMigratedDatabase(loadConfigOrExit(), async (ds) => {
        const { users, keys } = accounts(ds);
        const owner = await userByEmail(users, email);
        const created = await keys.create(
          owner.id,
          { name: opts.name, models, expiresAt },
          CLI_ACTOR,
          null,
        );
        // Only the key on stdout, so `KEY=$(enclave key create …)` captures exactly it.
        process.stdout.write(`${created.key}\n`);
      });
    });

  key
    .command('revoke <prefix>')
    .description('revoke an API key by its prefix (ek_1a2b3c4d)')
    .action(async (prefix: string) => {
      await withMigratedDatabase(loadConfigOrExit(), async (ds) => {
        await accounts(ds).keys.revoke(prefix, CLI_ACTOR, null);
        console.log(`revoked ${prefix}`);
      });
    });

  program
    .command('bootstrap')
    .description(`create the first administrator when there are no users (otherwise do nothing)`)
    .action(async () => {
      await withMigratedDatabase(loadConfigOrExit(), async (ds) => {
        const created = await accounts(ds).usersService.createFirstAdmin(CLI_ACTOR);
        if (!created) return;
        console.log(
          [
            '',
            'No users yet, so the first administrator was created:',
            `  email     ${created.user.email}`,
            `  password  ${created.generatedPassword}`,
            'This one-time password is shown only now: sign in to the admin console with it.',
            `Lost it? \`enclave user reset-password ${created.user.email}\` makes a new one.`,
            '',
          ].join('\n'),
        );
      });
    });
}
