import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { AuditLog } from '@enclave/audit';
import {
  type ChainVerdict,
  type ExportFileFormat,
  generateSigningKey,
  Keyring,
  LegalHolds,
  loadSigningKey,
  localVerificationKeys,
  parsePublicKey,
  publicKeyPem,
  rotateSigningKey,
  type VerificationKeys,
  verifyDatabaseChain,
  verifyExport,
  writeExport,
} from '@enclave/audit-chain';
import { UsersRepository } from '@enclave/auth';
import { isUuid } from '@enclave/http';
import { type Config, loadConfig, loadConfigOrExit } from '@enclave/config';
import { defaultPolicies, POLICIES_SETTING_KEY, RuntimePolicies } from '@enclave/policy';
import { applyRetention, eraseUser } from '@enclave/privacy';
import { databaseUrl, pgClient, SettingsRepository, sqlOf } from '@enclave/db';
import { withMigratedDatabase as withDatabase } from './database.js';

/** Exit code of `enclave audit verify` when the chain or the export was tampered with. */
export const EXIT_TAMPERED = 2;

/** `enclave audit …`: the signing key, verification and exports. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');

  audit
    .command('keygen')
    .description('create the Ed25519 key that signs checkpoints and exports; prints its public key')
    .option('--out <file>', 'where to write the private key (default: AUDIT_SIGNING_KEY_FILE)')
    .option(
      '--force',
      'replace an existing key (checkpoints signed so far keep needing the old public key)',
    )
    .action((opts: { out?: string; force?: boolean }) => {
      const path = opts.out ?? loadConfigOrExit().audit.signingKeyFile;
      const key = generateSigningKey(path, { force: opts.force });
      process.stderr.write(`enclave: audit signing key ${key.keyId} written to ${path}\n`);
      process.stdout.write(publicKeyPem(key));
    });

  audit
    .command('pubkey')
    .description('print the public key that verifies checkpoints and exports (PEM)')
    .option('--key <file>', 'the private key file (default: AUDIT_SIGNING_KEY_FILE)')
    .action((opts: { key?: string }) => {
      const path = opts.key ?? loadConfigOrExit().audit.signingKeyFile;
      const key = loadSigningKey(path);
      if (!key)
        throw new Error(`no signing key at ${path}; create one with \`enclave audit keygen\``);
      process.stdout.write(publicKeyPem(key));
    });

  audit
    .command('verify')
    .description('verify the chain in the database (--db), or an export offline (<manifest>)')
    .argument(
      '[manifest]',
      'an export manifest (*.manifest.json); needs only the files and --public-key',
    )
    .option('--db', 'verify the chain in the configured database')
    .option(
      '--keyring <file>',
      'the published keyring (default: AUDIT_KEYRING_FILE when it exists); trusts its keys within their periods',
    )
    .option('--public-key <file>', 'one public key (PEM) instead of a keyring, trusted at any time')
    .option('--json', 'print the verdict as JSON')
    .action(
      async (
        manifest: string | undefined,
        opts: { db?: boolean; keyring?: string; publicKey?: string; json?: boolean },
      ) => {
        if (opts.db === !!manifest) throw new Error('give either --db or a manifest file');
        if (opts.keyring && opts.publicKey)
          throw new Error('give --keyring or --public-key, not both');
        if (opts.db) {
          const config = loadConfigOrExit();
          const keys = verificationKeys(opts) ?? configuredKeys(config);
          const verdict = await withDatabase(config, (ds) => verifyDatabaseChain(sqlOf(ds), keys));
          report('audit chain', verdict, opts.json, `${verdict.unsealed} unsealed`);
        } else {
          const keys = verificationKeys(opts) ?? publishedKeyring();
          if (!keys) {
            throw new Error(
              'offline verification needs the keyring (--keyring <file>) or a public key (--public-key <file>)',
            );
          }
          const verdict = await verifyExport(manifest!, keys);
          report('audit export', verdict, opts.json);
        }
      },
    );

  audit
    .command('rotate-key')
    .description(
      'replace the signing key: signs the head with the old and the new key, updates the keyring (stop the audit apps first)',
    )
    .option('--label <text>', "the new key's label in the keyring", `audit@${hostname()}`)
    .action(async (opts: { label: string }) => {
      const config = loadConfigOrExit();
      const client = pgClient(databaseUrl(config));
      await client.connect();
      try {
        const r = await rotateSigningKey({
          client,
          keyFile: config.audit.signingKeyFile,
          keyringFile: config.audit.keyringFile,
          label: opts.label,
        });
        const cp = r.handover[0]!;
        process.stderr.write(
          `enclave: signing key ${r.oldKeyId} retired and ${r.newKey.keyId} in use from ${cp.signedAt} (handover checkpoint at position ${cp.pos}); keyring ${config.audit.keyringFile} updated.\n` +
            'Publish the keyring to every host and to the auditors, copy the new key to the other audit hosts that share it, then start the audit apps.\n',
        );
        process.stdout.write(publicKeyPem(r.newKey));
      } finally {
        await client.end();
      }
    });

  const keyring = audit
    .command('keyring')
    .description('the published keyring of public keys that verification trusts');
  keyring
    .command('list')
    .description('print the keys of the keyring (AUDIT_KEYRING_FILE) and their periods')
    .action(() => {
      const file = loadConfigOrExit().audit.keyringFile;
      const ring = Keyring.load(file);
      if (!ring)
        throw new Error(`no keyring at ${file}; add a key with \`enclave audit keyring add\``);
      for (const e of ring.entries) {
        console.log(`${e.keyId}\t${e.notBefore ?? '-'}\t${e.notAfter ?? '-'}\t${e.label ?? ''}`);
      }
    });
  keyring
    .command('add')
    .description("add a public key (PEM; a host's `enclave audit pubkey`) to the keyring")
    .argument('<public-key>', 'the PEM file of the public key')
    .option('--label <text>', 'who holds the key, e.g. audit@host2')
    .option('--not-before <time>', 'it may sign from then on (ISO-8601; default: any time)')
    .option('--not-after <time>', 'it may sign until then (ISO-8601; default: any time)')
    .action((file: string, opts: { label?: string; notBefore?: string; notAfter?: string }) => {
      const path = loadConfigOrExit().audit.keyringFile;
      const publicKey = parsePublicKey(readFileSync(file));
      const next = (Keyring.load(path) ?? new Keyring([])).with({
        publicKey,
        notBefore: parseTime('--not-before', opts.notBefore)?.toISOString() ?? null,
        notAfter: parseTime('--not-after', opts.notAfter)?.toISOString() ?? null,
        label: opts.label ?? null,
      });
      next.save(path);
      console.log(`keyring ${path}: ${next.entries.length} key(s)`);
    });

  audit
    .command('export')
    .description(
      'export sealed events (JSONL or CSV) with a signed manifest, for offline verification',
    )
    .requiredOption('--out <dir>', 'directory to write the data file, links file and manifest to')
    .option('--name <name>', 'base name of the files (default: audit-<timestamp>)')
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--from <time>', 'first occurred_at included (ISO-8601)')
    .option('--to <time>', 'occurred_at excluded from here on (ISO-8601)')
    .option('--actor <userId>', "only this user's events")
    .option('--action <action>', 'only this action, or a prefix such as auth.*')
    .action(async (opts: ExportOptions) => {
      if (opts.format !== 'jsonl' && opts.format !== 'csv') {
        throw new Error('--format must be jsonl or csv');
      }
      const config = loadConfigOrExit();
      const signingKey = loadSigningKey(config.audit.signingKeyFile);
      if (!signingKey) throw new Error(`no signing key at ${config.audit.signingKeyFile}`);
      const keys = configuredKeys(config);
      const filter = {
        from: parseTime('--from', opts.from),
        to: parseTime('--to', opts.to),
        actorId: opts.actor ?? null,
        action: opts.action ?? null,
      };
      const name = opts.name ?? `audit-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      const result = await withDatabase(config, async (ds) => {
        const written = await writeExport({
          sql: sqlOf(ds),
          dir: opts.out,
          name,
          format: opts.format as ExportFileFormat,
          filter,
          signingKey,
          keys,
          createdBy: 'cli',
        });
        await ds.transaction((m) =>
          new AuditLog().append(m, {
            actor: { type: 'system', id: null, label: 'cli' },
            action: 'audit.export.created',
            target: { type: 'audit_export', id: name },
            outcome: 'success',
            payload: {
              via: 'cli',
              format: opts.format,
              filter: written.manifest.filter,
              events: written.manifest.dataFile.events,
              dataSha256: written.manifest.dataFile.sha256,
            },
          }),
        );
        return written;
      });
      const m = result.manifest;
      console.log(
        `exported ${m.dataFile.events} events (positions ${m.chain.fromPos + 1}–${m.chain.toPos}) to ${result.manifestPath}`,
      );
    });

  audit
    .command('erase')
    .description(
      "right to erasure: erase one user's audit payloads and conversation contents (the chain still verifies)",
    )
    .requiredOption('--user <idOrEmail>', 'the user, by id or email')
    .requiredOption('--reason <text>', 'why (recorded in audit.erasure.performed)')
    .action(async (opts: { user: string; reason: string }) => {
      if (opts.reason.trim().length < 5) throw new Error('--reason needs at least 5 characters');
      const config = loadConfigOrExit();
      const result = await withDatabase(config, (ds) =>
        ds.transaction(async (m) => {
          const users = new UsersRepository(ds);
          const user = isUuid(opts.user)
            ? await users.findById(opts.user, m)
            : await users.findByEmail(opts.user, m);
          if (!user) throw new Error(`no user has the id or email ${opts.user}`);
          return eraseUser(m, user.id, opts.reason.trim(), {
            type: 'system',
            id: null,
            label: 'cli',
          });
        }),
      );
      console.log(
        `erased user ${result.userId}: ${result.auditEvents} audit payloads, ${result.messages} messages, ${result.conversations} conversation titles, ${result.feedbackComments} feedback comments, ${result.storedResponses} stored responses`,
      );
    });

  audit
    .command('holds')
    .description('list the legal holds (install.sh --purge refuses while one is active)')
    .option('--active', 'only the holds not yet released')
    .option('--count', 'print only how many there are')
    .option('--json', 'print them as JSON')
    .action(async (opts: { active?: boolean; count?: boolean; json?: boolean }) => {
      const all = await withDatabase(loadConfigOrExit(), (ds) =>
        new LegalHolds(new UsersRepository(ds)).list(sqlOf(ds)),
      );
      const holds = opts.active ? all.filter((h) => h.active) : all;
      if (opts.count) console.log(holds.length);
      else if (opts.json) console.log(JSON.stringify(holds));
      else if (holds.length === 0) console.log('no legal holds');
      else
        for (const h of holds)
          console.log(
            `${h.id} ${h.active ? 'active' : `released ${h.releasedAt}`} ${h.userEmail ?? h.userId ?? 'all users'} ${h.from ?? '…'}–${h.to ?? '…'}: ${h.reason}`,
          );
    });

  audit
    .command('retention')
    .description(
      'apply the retention policies now, as the audit app does on its interval (prints the counts)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfigOrExit();
      const result = await withDatabase(config, async (ds) => {
        const row = await new SettingsRepository(ds).get(POLICIES_SETTING_KEY);
        const p = {
          ...defaultPolicies(config),
          ...RuntimePolicies.partial().parse(row?.value ?? {}),
        };
        return applyRetention(
          ds,
          {
            audit: p.auditRetentionDays,
            messageDays: p.messageRetentionDays,
            usageDays: p.usageRetentionDays,
          },
          new Date(),
        );
      });
      if (opts.json) console.log(JSON.stringify(result));
      else if (!result.ran) console.log('retention: another run is in progress; nothing done');
      else
        console.log(
          `retention: ${result.auditEventsPruned} audit events pruned (${result.auditEventsHeld} held), ${result.messagesDeleted} messages deleted (${result.messagesHeld} held), partitions dropped: ${result.partitionsDropped.join(', ') || 'none'}`,
        );
    });
}

interface ExportOptions {
  out: string;
  name?: string;
  format: string;
  from?: string;
  to?: string;
  actor?: string;
  action?: string;
}

function parseTime(flag: string, value: string | undefined): Date | null {
  if (value === undefined) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) {
    throw new Error(`${flag} ${JSON.stringify(value)} is not a time (use ISO-8601)`);
  }
  return d;
}

/** The keys named on the command line, or null when none were. */
function verificationKeys(opts: { keyring?: string; publicKey?: string }): VerificationKeys | null {
  if (opts.keyring) {
    const ring = Keyring.load(opts.keyring);
    if (!ring) throw new Error(`no keyring at ${opts.keyring}`);
    return ring;
  }
  return opts.publicKey ? parsePublicKey(readFileSync(opts.publicKey)) : null;
}

/** The configured keyring when this host has one (offline: the config may be absent). */
function publishedKeyring(): Keyring | null {
  try {
    return Keyring.load(loadConfig().audit.keyringFile);
  } catch {
    return null;
  }
}

/** The keyring, or (none published) the configured signing key's public half. */
function configuredKeys(config: Config): VerificationKeys {
  const keys = localVerificationKeys(config.audit);
  if (!keys) {
    throw new Error(
      `neither a keyring (${config.audit.keyringFile}) nor a signing key (${config.audit.signingKeyFile}); pass --keyring <file>`,
    );
  }
  return keys;
}

/** Prints the verdict; a tampered chain sets exit code 2. */
function report(what: string, verdict: ChainVerdict, json = false, extra = ''): void {
  if (json) {
    console.log(JSON.stringify(verdict));
  } else if (verdict.ok) {
    console.log(
      `${what}: OK (${verdict.positions} positions, ${verdict.events} events, ${verdict.checkpoints} checkpoints, head ${verdict.lastPos}, ${verdict.redacted} redacted, ${verdict.pruned} pruned${verdict.prunedRange ? ` (positions ${verdict.prunedRange.from}–${verdict.prunedRange.to})` : ''}${extra ? `, ${extra}` : ''})`,
    );
  } else {
    const first = verdict.problems[0]!;
    console.log(
      `${what}: TAMPERED: first bad position ${first.pos ?? '(none)'}: ${first.kind}: ${first.message}`,
    );
    for (const p of verdict.problems) console.log(`  ${p.pos ?? '-'}\t${p.kind}\t${p.message}`);
  }
  if (!verdict.ok) process.exitCode = EXIT_TAMPERED;
}
