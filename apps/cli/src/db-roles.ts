import type { Command } from 'commander';
import { loadConfigOrExit } from '@enclave/config';
import { createAppRoles, databaseUrl, grantReplicationStats, pgClient } from '@enclave/db';

/** `enclave db …`: the database roles of the apps. */
export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('the database roles of the apps');
  db.command('create-roles')
    .description(
      "create enclave_chat, enclave_admin and enclave_audit (new passwords if they exist) and grant them; prints each app's DATABASE_URL",
    )
    .option(
      '--app-url <url>',
      "the URL the apps reach the database by, whose host and options each app's URL takes (default: DATABASE_URL); for when this command connects otherwise, e.g. as a superuser over the local socket",
    )
    .action(async (opts: { appUrl?: string }) => {
      const url = databaseUrl(loadConfigOrExit());
      const client = pgClient(url);
      await client.connect();
      try {
        // Passwords come back on stdout only: the installer writes them into each unit's env.
        for (const r of await createAppRoles(client, opts.appUrl ?? url)) {
          console.log(`${r.app}\t${r.role}\t${r.url}`);
        }
        if (!(await grantReplicationStats(client))) {
          process.stderr.write(
            'enclave: not a superuser, so enclave_admin is not in pg_read_all_stats: the admin dashboard lists standbys without their state and lag (a superuser: GRANT pg_read_all_stats TO enclave_admin)\n',
          );
        }
        process.stderr.write(
          "enclave: give each app its DATABASE_URL (and ENCLAVE_MIGRATE_ON_START=false for chat and admin); keep the owner's URL for `enclave migrate` only\n",
        );
      } finally {
        await client.end();
      }
    });
}
