import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { keyIdOf } from './chain.js';

/** The Ed25519 key that signs checkpoints and export manifests. */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/**
 * Creates the signing key (PKCS#8 PEM, readable by its owner only). Refuses to replace an existing
 * key unless forced: checkpoints already signed would then verify only with the old public key.
 */
export function generateSigningKey(path: string, opts: { force?: boolean } = {}): SigningKey {
  if (existsSync(path) && !opts.force) {
    throw new Error(`${path} already exists; keep it (or pass --force to replace it)`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  chmodSync(path, 0o600);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** The key at path, or null when there is none. */
export function loadSigningKey(path: string): SigningKey | null {
  if (!existsSync(path)) return null;
  const privateKey = createPrivateKey(readFileSync(path));
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${path} is not an Ed25519 private key`);
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

export function publicKeyPem(key: SigningKey): string {
  return key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** A public key from PEM text (a private key PEM is accepted too: its public half is used). */
export function parsePublicKey(pem: string | Buffer): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 public key');
  return key;
}
