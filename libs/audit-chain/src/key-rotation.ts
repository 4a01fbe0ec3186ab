import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type pg from 'pg';
import { AuditChainRepository } from './audit-chain.repository.js';
import { SEALER_LOCK } from './sealer/audit-sealer.js';
import { type Checkpoint, keyIdOf, signCheckpoint } from './chain.js';
import { Keyring } from './keyring.js';
import { loadSigningKey, type SigningKey } from './signing-key.js';
import { sqlOfClient } from '@enclave/db';

export class KeyRotationRefused extends Error {}

export interface KeyRotation {
  oldKeyId: string;
  newKey: SigningKey;
  /** The handover: the head at `at`, signed by the old key and by the new one. */
  handover: Checkpoint[];
  keyring: Keyring;
}

/**
 * Replaces the signing key at `keyFile`. The handover is one checkpoint of the current head signed
 * at the same instant by the old key and by the new one; in the keyring at `keyringFile` (made
 * from the old key when there is none yet) the old key may sign until that instant and the new
 * one from it. Takes the sealer's lock for the duration, so no sealer signs with the old key
 * meanwhile: the audit apps are stopped first (docs/audit.md, rotation runbook).
 */
export async function rotateSigningKey(opts: {
  client: pg.Client | pg.PoolClient;
  keyFile: string;
  keyringFile: string;
  label?: string;
  now?: Date;
}): Promise<KeyRotation> {
  const old = loadSigningKey(opts.keyFile);
  if (!old) {
    throw new KeyRotationRefused(
      `no signing key at ${opts.keyFile} to rotate; create one with \`enclave audit keygen\``,
    );
  }
  const keyring = Keyring.load(opts.keyringFile) ?? Keyring.ofKey(old.publicKey);
  if (!keyring.get(old.keyId)) {
    throw new KeyRotationRefused(
      `the signing key ${old.keyId} is not in the keyring ${opts.keyringFile}, so its checkpoints do not verify; add it (docs/audit.md) before rotating`,
    );
  }
  const [{ locked }] = (
    await opts.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      SEALER_LOCK,
    ])
  ).rows as [{ locked: boolean }];
  if (!locked) {
    throw new KeyRotationRefused(
      'an audit app is sealing (it holds the sealer lock); stop the audit app on every host (systemctl stop enclave-audit) and run the rotation again',
    );
  }
  const pending = `${opts.keyFile}.new`;
  try {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const newKey: SigningKey = { privateKey, publicKey, keyId: keyIdOf(publicKey) };
    writeFileSync(pending, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    chmodSync(pending, 0o600);

    const at = opts.now ?? new Date();
    const repo = new AuditChainRepository(sqlOfClient(opts.client));
    const handover: Checkpoint[] = [];
    await opts.client.query('BEGIN');
    try {
      const head = await repo.head();
      for (const key of [old, newKey]) {
        const cp = signCheckpoint(key, head.pos, head.hash, at);
        await repo.insertCheckpoint(cp);
        handover.push(cp);
      }
      await opts.client.query('COMMIT');
    } catch (err) {
      await opts.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    const signedAt = at.toISOString();
    const next = keyring.retire(old.keyId, signedAt).with({
      publicKey,
      notBefore: signedAt,
      notAfter: null,
      label: opts.label ?? null,
    });
    next.save(opts.keyringFile);
    renameSync(pending, opts.keyFile);
    return { oldKeyId: old.keyId, newKey, handover, keyring: next };
  } finally {
    rmSync(pending, { force: true });
    await opts.client.query('SELECT pg_advisory_unlock($1)', [SEALER_LOCK]).catch(() => undefined);
  }
}
