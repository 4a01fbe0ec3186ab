import 'reflect-metadata';
import { Command } from 'commander';
import { loadConfigOrExit } from '@enclave/config';
import {
  embeddedDataDir,
  pendingMigrations,
  runMigrations,
  startEmbeddedPostgres,
} from '@enclave/db';
import { registerAccountCommands } from './accounts.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerDbCommands } from './db-roles.js';
import { withDatabase } from './database.js';
import { registerDoctor } from './doctor.js';

/** The operator's command line: `enclave <command>`. */
const program = new Command('enclave')
  .description('Enclave appliance administration')
  .showHelpAfterError()
  // Usage mistakes read like every other error: `enclave: <message>` on stderr, exit 1.
  .configureOutput({
    outputError: (text, write) => write(text.replace(/^error: /, 'enclave: ')),
  });

program
  .command('migrate')
  .description('apply pending database migrations (or list them with --status)')
  .option('--status', 'only list the migrations not yet applied')
  .action(async (opts: { status?: boolean }) => {
    await withDatabase(loadConfigOrExit(), async (ds) => {
      if (opts.status) {
        const pending = await pendingMigrations(ds);
        console.log(pending.length ? `pending: ${pending.join(', ')}` : 'up to date');
        return;
      }
      const applied = await runMigrations(ds);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'up to date');
    });
  });

program
  .command('embedded-db')
  .description('serve the embedded database (PGlite) on loopback for the other processes')
  .action(async () => {
    const config = loadConfigOrExit();
    const dataDir = embeddedDataDir(config.database.dataDir);
    const db = await startEmbeddedPostgres({ dataDir, port: config.database.embeddedPort });
    console.log(
      JSON.stringify({ level: 30, app: 'embedded-db', msg: 'listening', url: db.url, dataDir }),
    );
    const stop = async () => {
      await db.stop();
      process.exit(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

registerAccountCommands(program);
registerAuditCommands(program);
registerDbCommands(program);
registerDoctor(program);

program.parseAsync().catch((err: Error) => {
  console.error(`enclave: ${err.message}`);
  process.exit(1);
});
