import 'reflect-metadata';
import { Command } from 'commander';
import { loadConfigOrExit } from '@enclave/config';
import {
  EmbeddedPostgres,
  OldEmbeddedDataError,
  pendingMigrations,
  runMigrations,
} from '@enclave/db';
import { registerAccountCommands } from './accounts.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerDbCommands } from './db-roles.js';
import { withDatabase } from './database.js';
import { registerDoctor } from './doctor.js';
import { registerGroupCommands } from './groups.js';

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
  .description(
    'run the embedded PostgreSQL server (ENCLAVE_DATA_DIR/postgres, loopback, password) until stopped',
  )
  .action(async () => {
    // The cluster, its password file and its logs are the owner's alone.
    process.umask(0o077);
    const config = loadConfigOrExit();
    let db: EmbeddedPostgres;
    try {
      db = await EmbeddedPostgres.start({
        dataDir: config.database.dataDir,
        port: config.database.embeddedPort,
      });
    } catch (err) {
      if (err instanceof OldEmbeddedDataError) {
        console.error(`enclave: ${err.message}`);
        process.exit(78);
      }
      throw err;
    }
    const log = (level: number, msg: string, extra: object = {}) =>
      console.log(JSON.stringify({ level, app: 'embedded-db', msg, ...extra }));
    log(30, 'listening', { port: db.port, pid: db.pid, dataDir: config.database.dataDir });
    const stop = async () => {
      await db.stop();
      process.exit(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    // A server that dies on its own ends this process too, so the supervisor (`npm start`)
    // sees it and starts a new one.
    const { code, signal } = await db.exited;
    if (db.isStopping) return;
    log(50, 'the embedded Postgres stopped', { code, signal });
    process.exit(1);
  });

registerAccountCommands(program);
registerGroupCommands(program);
registerAuditCommands(program);
registerDbCommands(program);
registerDoctor(program);

program.parseAsync().catch((err: Error) => {
  console.error(`enclave: ${err.message}`);
  process.exit(1);
});
