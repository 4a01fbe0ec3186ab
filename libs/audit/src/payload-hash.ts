import { hash, randomBytes } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** Hex SHA-256 of a text (UTF-8) or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

export function newPayloadSalt(): Buffer {
  return randomBytes(16);
}

/**
 * payloadHash = SHA-256(salt ‖ canonicalJson(payload)). The chain commits to this salted hash, not
 * the payload, so a payload can be erased (and its salt with it, so the hash no longer confirms a
 * guess) while the chain still verifies.
 */
export function payloadHash(saltHex: string, payload: unknown): string {
  return payloadTextHash(saltHex, canonicalJson(payload));
}

/** payloadHash() of a payload whose canonical JSON text the caller already has. */
export function payloadTextHash(saltHex: string, canonicalPayload: string): string {
  return sha256Hex(Buffer.concat([Buffer.from(saltHex, 'hex'), Buffer.from(canonicalPayload)]));
}
