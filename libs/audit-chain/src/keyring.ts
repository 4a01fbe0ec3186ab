import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { keyIdOf, type KeyLookup, type KeyRefusal, type SignerKeys } from './chain.js';
import { parsePublicKey } from './signing-key.js';

/*
 * The published keyring: the public keys that may have signed checkpoints and export manifests,
 * each with the period in which it may sign. Verification (database and offline) trusts a
 * signature only from a key of the keyring, made (by its signed time) within that key's period.
 * A file of public keys only, so every host and every auditor may hold a copy (docs/audit.md):
 *
 *   { "format": "enclave.audit.keyring/v1",
 *     "keys": [ { "keyId": "…", "publicKey": "-----BEGIN PUBLIC KEY-----…",
 *                 "notBefore": "2026-01-01T00:00:00.000Z" | null,
 *                 "notAfter": "2026-12-01T00:00:00.000Z" | null, "label": "…" } ] }
 */

export const KEYRING_FORMAT = 'enclave.audit.keyring/v1';

export interface KeyringEntry {
  /** keyIdOf(publicKey): what checkpoints and manifests name. */
  keyId: string;
  publicKey: KeyObject;
  /** ISO-8601; null: no bound. A signature is trusted when notBefore ≤ signed time ≤ notAfter. */
  notBefore: string | null;
  notAfter: string | null;
  label: string | null;
}

export type { KeyLookup, KeyRefusal };

export class KeyringError extends Error {}

export class Keyring implements SignerKeys {
  private readonly byId: Map<string, KeyringEntry>;

  constructor(readonly entries: readonly KeyringEntry[]) {
    this.byId = new Map(entries.map((e) => [e.keyId, e]));
  }

  /** One key without bounds: how a single configured key verifies (no keyring published). */
  static ofKey(publicKey: KeyObject): Keyring {
    return new Keyring([
      { keyId: keyIdOf(publicKey), publicKey, notBefore: null, notAfter: null, label: null },
    ]);
  }

  static parse(text: string, source = 'the keyring'): Keyring {
    let doc: { format?: unknown; keys?: unknown };
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch (err) {
      throw new KeyringError(`${source} is not JSON: ${(err as Error).message}`);
    }
    if (doc.format !== KEYRING_FORMAT || !Array.isArray(doc.keys)) {
      throw new KeyringError(
        `${source} is not an ${KEYRING_FORMAT} file (expected {"format": "${KEYRING_FORMAT}", "keys": [...]})`,
      );
    }
    const entries = doc.keys.map((raw: Record<string, unknown>, i: number) => {
      const at = `${source}, key ${i + 1}`;
      let publicKey: KeyObject;
      try {
        publicKey = parsePublicKey(String(raw.publicKey));
      } catch (err) {
        throw new KeyringError(
          `${at}: publicKey is not an Ed25519 public key PEM (${(err as Error).message})`,
        );
      }
      const keyId = keyIdOf(publicKey);
      if (raw.keyId !== undefined && raw.keyId !== keyId) {
        throw new KeyringError(
          `${at}: keyId ${String(raw.keyId)} is not that of its public key (${keyId})`,
        );
      }
      return {
        keyId,
        publicKey,
        notBefore: time(raw.notBefore, `${at}: notBefore`),
        notAfter: time(raw.notAfter, `${at}: notAfter`),
        label: typeof raw.label === 'string' ? raw.label : null,
      };
    });
    return new Keyring(entries);
  }

  /** The keyring at path, or null when there is no such file. */
  static load(path: string): Keyring | null {
    if (!existsSync(path)) return null;
    return Keyring.parse(readFileSync(path, 'utf8'), path);
  }

  get(keyId: string): KeyringEntry | undefined {
    return this.byId.get(keyId);
  }

  /** The public key to check a signature by `keyId` made at `signedAt`, or why it is not trusted. */
  lookup(keyId: string, signedAt: string): KeyLookup {
    const e = this.byId.get(keyId);
    if (!e) {
      return {
        ok: false,
        kind: 'key_unknown',
        message: `key ${keyId} is not in the keyring (keys: ${[...this.byId.keys()].join(', ') || 'none'})`,
      };
    }
    const at = Date.parse(signedAt);
    if (
      Number.isNaN(at) ||
      (e.notBefore !== null && at < Date.parse(e.notBefore)) ||
      (e.notAfter !== null && at > Date.parse(e.notAfter))
    ) {
      return {
        ok: false,
        kind: 'key_outside_validity',
        message: `key ${keyId} may sign from ${e.notBefore ?? 'any time'} to ${e.notAfter ?? 'any time'}, not at ${signedAt}`,
      };
    }
    return { ok: true, publicKey: e.publicKey };
  }

  /** A copy with `entry` added (or replacing the entry of the same key). */
  with(entry: Omit<KeyringEntry, 'keyId'>): Keyring {
    const keyId = keyIdOf(entry.publicKey);
    return new Keyring([...this.entries.filter((e) => e.keyId !== keyId), { ...entry, keyId }]);
  }

  /** A copy in which `keyId` may sign no later than `at`. */
  retire(keyId: string, at: string): Keyring {
    return new Keyring(this.entries.map((e) => (e.keyId === keyId ? { ...e, notAfter: at } : e)));
  }

  toJson(): string {
    const keys = this.entries.map((e) => ({
      keyId: e.keyId,
      publicKey: e.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      notBefore: e.notBefore,
      notAfter: e.notAfter,
      label: e.label,
    }));
    return `${JSON.stringify({ format: KEYRING_FORMAT, keys }, null, 2)}\n`;
  }

  /** Writes the keyring whole or not at all (a reader never sees half a file). */
  save(path: string): void {
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, this.toJson(), { mode: 0o644 });
    renameSync(tmp, path);
  }
}

/** What verifies signatures: a keyring, or one public key (trusted at any time). */
export type VerificationKeys = Keyring | KeyObject;

export function asKeyring(keys: VerificationKeys): Keyring {
  return keys instanceof Keyring ? keys : Keyring.ofKey(keys);
}

function time(value: unknown, what: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw new KeyringError(
      `${what} must be an ISO-8601 time or null, not ${JSON.stringify(value)}`,
    );
  }
  return new Date(value).toISOString();
}

/**
 * The keys to verify with on this host: the published keyring when there is one, else the public
 * half of the configured signing key (how an install with one key and no keyring verifies). Null
 * when neither file exists.
 */
export function localVerificationKeys(files: {
  keyringFile: string;
  signingKeyFile: string;
}): Keyring | null {
  const keyring = Keyring.load(files.keyringFile);
  if (keyring) return keyring;
  if (!existsSync(files.signingKeyFile)) return null;
  return Keyring.ofKey(parsePublicKey(readFileSync(files.signingKeyFile)));
}
