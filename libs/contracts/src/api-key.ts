/**
 * The API key format: `ek_<8 hex>_<43 base64url characters>` (256 random bits). The prefix
 * (`ek_1a2b3c4d`) is stored and shown and names the key in the console and the audit trail; the
 * rest is the secret.
 */
export const API_KEY_PATTERN = /^(ek_[0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

/** A key's prefix alone, as `DELETE /api/keys/:prefix` takes it. */
export const API_KEY_PREFIX_PATTERN = /^ek_[0-9a-f]{8}$/;

/** The prefix of a well-formed key, or null. */
export function apiKeyPrefix(key: string): string | null {
  return API_KEY_PATTERN.exec(key)?.[1] ?? null;
}

/** The prefix of whatever starts like a key (`ek_1a2b3c4d…`), well-formed or not. */
export function leadingApiKeyPrefix(value: string): string | null {
  return /^(ek_[0-9a-f]{8})/.exec(value)?.[1] ?? null;
}
