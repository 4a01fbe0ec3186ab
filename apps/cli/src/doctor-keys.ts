import { existsSync } from 'node:fs';
import {
  type CheckpointSigner,
  checkpointSigners,
  Keyring,
  loadSigningKey,
  type SigningKey,
} from '@enclave/audit-chain';
import type { Config } from '@enclave/config';
import { databaseUrl, pgClient, sqlOfClient } from '@enclave/db';
import type { Finding } from './doctor.js';

const TIMEOUT_MS = 5_000;

/**
 * The audit signing key and the keyring: the keyring reads; this host's key (where it is held)
 * is in it and may sign now; and every key that signed checkpoints (each audit host's, and keys
 * rotated out) is in it for the times it signed, or `enclave audit verify` will fail.
 */
export async function checkSigningKeys(config: Config): Promise<Finding[]> {
  const { keyringFile, signingKeyFile } = config.audit;
  let keyring: Keyring | null;
  try {
    keyring = Keyring.load(keyringFile);
  } catch (err) {
    return [
      {
        check: 'audit keyring',
        verdict: 'fail',
        message: (err as Error).message,
        fix: 'restore the published keyring (docs/audit.md describes its format)',
      },
    ];
  }
  let key: SigningKey | null = null;
  let keyProblem: string | null = null;
  try {
    key = loadSigningKey(signingKeyFile);
  } catch (err) {
    keyProblem = (err as Error).message;
  }
  const findings: Finding[] = [keyFinding(signingKeyFile, key, keyProblem)];
  if (!keyring) {
    findings.push({
      check: 'audit keyring',
      verdict: 'warn',
      message: `no keyring at ${keyringFile}: only this host's signing key verifies, so checkpoints of another audit host or of a rotated-out key will not`,
      fix: "publish a keyring with every audit host's public key: `enclave audit pubkey > k.pem; enclave audit keyring add k.pem` (docs/audit.md)",
    });
  } else {
    findings.push({
      check: 'audit keyring',
      verdict: 'ok',
      message: `${keyring.entries.length} key(s) in ${keyringFile}`,
    });
    if (key) {
      const trusted = keyring.lookup(key.keyId, new Date().toISOString());
      findings.push(
        trusted.ok
          ? { check: 'signing key in keyring', verdict: 'ok', message: `${key.keyId} may sign now` }
          : {
              check: 'signing key in keyring',
              verdict: 'fail',
              message: trusted.message,
              fix: "add this host's key: `enclave audit pubkey > k.pem; enclave audit keyring add k.pem`, then publish the keyring to every host",
            },
      );
    }
  }
  const signers = await signersOf(config);
  if (signers === null) return findings;
  const trust = keyring ?? (key ? Keyring.ofKey(key.publicKey) : null);
  if (!trust) return findings;
  const untrusted = signers.filter(
    (s) => !trust.lookup(s.keyId, s.first).ok || !trust.lookup(s.keyId, s.last).ok,
  );
  findings.push(
    untrusted.length
      ? {
          check: 'audit hosts agree',
          verdict: 'fail',
          message: `checkpoints signed by ${untrusted.map((s) => `${s.keyId} (${s.first} – ${s.last})`).join(', ')} are not trusted by the keyring; \`enclave audit verify\` will fail`,
          fix: 'add the public key of every audit host (and of keys rotated out, with their periods) to the keyring and publish it to every host',
        }
      : {
          check: 'audit hosts agree',
          verdict: 'ok',
          message: `every key that signed checkpoints (${signers.map((s) => s.keyId).join(', ') || 'none yet'}) is trusted`,
        },
  );
  return findings;
}

function keyFinding(path: string, key: SigningKey | null, problem: string | null): Finding {
  if (key) return { check: 'audit signing key', verdict: 'ok', message: `${key.keyId} at ${path}` };
  if (problem || existsSync(path)) {
    return {
      check: 'audit signing key',
      verdict: 'fail',
      message: `${path} cannot be used: ${problem ?? 'unreadable'}`,
      fix: "run the doctor as the audit app's user, or restore the key file (`enclave audit keygen` makes a new one)",
    };
  }
  return {
    check: 'audit signing key',
    verdict: 'warn',
    message: `none at ${path} (fine on a host without the audit app; the audit app signs nothing without it)`,
    fix: "on the audit host: `enclave audit keygen`, or share the audit hosts' key (docs/audit.md)",
  };
}

/** Each key that signed checkpoints, with its first and last signing time; null: no database. */
async function signersOf(config: Config): Promise<CheckpointSigner[] | null> {
  if (!config.database.url) return null;
  const client = pgClient(databaseUrl(config), {
    connectionTimeoutMillis: TIMEOUT_MS,
    query_timeout: TIMEOUT_MS,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await checkpointSigners(sqlOfClient(client));
  } catch {
    // The database checks report an unreachable database or missing migrations.
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}
