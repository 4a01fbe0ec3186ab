import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/**
 * argon2id (the library's default algorithm; its `Algorithm` enum is type-only) at the
 * OWASP-recommended minimum cost: 19 MiB, 2 passes. A test asserts the stored hash is argon2id.
 */
const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** Spent on sign-ins for unknown emails, so timing does not reveal which emails exist. */
let dummyHash: Promise<string> | null = null;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(await dummyHash, password);
}

/** A password for a person to type once and change: 20 characters, about 119 bits. */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}

/**
 * API keys look like `ek_1a2b3c4d_<43 characters>` (`API_KEY_PATTERN` in libs/contracts). The prefix (`ek_1a2b3c4d`) is stored and
 * shown; the key itself only as its SHA-256 (it has 256 random bits, so a slow hash buys nothing
 * and would cost every API request).
 */
export function generateApiKey(): { key: string; prefix: string; secretHash: Buffer } {
  const prefix = `ek_${randomBytes(4).toString('hex')}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, secretHash: sha256(key) };
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Session and CSRF tokens: 256 random bits. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}
