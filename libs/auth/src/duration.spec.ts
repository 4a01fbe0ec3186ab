import { ApiError } from '@enclave/http';
import { expiryAfter, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['90m', 90 * 60_000],
    ['12h', 12 * 3_600_000],
    ['30d', 30 * 86_400_000],
    [' 1d ', 86_400_000],
    ['3650d', 3650 * 86_400_000],
  ])('reads %j', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 'd', '0d', '-1d', '1.5h', '30 d', '30D', '2w', '3651d', '1d2h', '99999999m'])(
    'refuses %j with 400 invalid_expiry',
    (text) => {
      let error: unknown;
      try {
        parseDuration(text);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).getStatus()).toBe(400);
      expect((error as ApiError).code).toBe('invalid_expiry');
    },
  );
});

describe('expiryAfter', () => {
  it('counts from now, and is null when nothing was asked', () => {
    const now = Date.UTC(2030, 0, 1);
    expect(expiryAfter('2h', now)).toEqual(new Date(now + 7_200_000));
    expect(expiryAfter(null, now)).toBeNull();
    expect(expiryAfter(undefined, now)).toBeNull();
  });
});
