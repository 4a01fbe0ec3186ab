import { cursorParam, decodeCursor, encodeCursor } from '@enclave/http';

const ID = '0b8f3a52-8c1e-4d6f-9a51-2f0c7e6d1a10';
const cursor = (fields: unknown) => Buffer.from(JSON.stringify(fields)).toString('base64url');

describe('the page cursor codec shared by chat and admin', () => {
  it('reads back what it wrote, to the microsecond', () => {
    const key = { updatedAt: '2026-05-01T09:00:00.123456Z', id: ID };
    expect(decodeCursor('updatedAt', encodeCursor('updatedAt', key))).toEqual(key);
  });

  it.each([
    ['February 30th', { at: '2025-02-30T10:00:00.000000Z', id: ID }],
    ['February 29th of a common year', { at: '2025-02-29T10:00:00.000000Z', id: ID }],
    ['month 13', { at: '2025-13-01T10:00:00.000000Z', id: ID }],
    ['hour 24', { at: '2025-01-01T24:00:00.000000Z', id: ID }],
    ['year 0', { at: '0000-01-01T10:00:00.000000Z', id: ID }],
    ['milliseconds only', { at: '2025-01-01T10:00:00.000Z', id: ID }],
    ['an id that is not a uuid', { at: '2025-01-01T10:00:00.000000Z', id: "1' OR 1=1" }],
    ['a number as time', { at: 1735725600000, id: ID }],
    ['an array', [1, 2]],
  ])('refuses a cursor with %s', (_, fields) => {
    expect(decodeCursor('at', cursor(fields))).toBeNull();
    expect(() => cursorParam('at', cursor(fields), 'before')).toThrow(
      expect.objectContaining({ code: 'invalid_cursor', param: 'before' }),
    );
  });

  it('takes February 29th of a leap year', () => {
    expect(
      decodeCursor('at', cursor({ at: '2024-02-29T10:00:00.000001Z', id: ID })),
    ).not.toBeNull();
  });

  it('refuses what is not base64url JSON, or too long', () => {
    for (const raw of ['', '!!!', 'e30', 'a'.repeat(300), '\u0000']) {
      expect(decodeCursor('at', raw)).toBeNull();
    }
  });
});
