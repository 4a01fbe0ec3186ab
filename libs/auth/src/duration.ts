import { ApiError } from '@enclave/http';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Ten years: longer is a typo, and would not be a meaningful expiry anyway. */
const MAX_MS = 3650 * UNIT_MS.d;

/** `90m`, `12h` or `30d` in milliseconds; 400 `invalid_expiry` for anything else. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,7})([mhd])$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : Number.NaN;
  if (!(ms > 0 && ms <= MAX_MS)) {
    throw new ApiError(
      400,
      'invalid_expiry',
      `'${text}' is not a valid expiry: write a whole number and a unit, e.g. 90m, 12h or 30d (at most 3650d).`,
      { param: 'expiresIn' },
    );
  }
  return ms;
}

/** When something given `expiresIn` (e.g. `30d`) from now expires; null when it never does. */
export function expiryAfter(expiresIn: string | null | undefined, now = Date.now()): Date | null {
  return expiresIn == null ? null : new Date(now + parseDuration(expiresIn));
}
