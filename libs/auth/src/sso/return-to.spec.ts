import { safeReturnTo } from './return-to.js';

describe('safeReturnTo', () => {
  it.each([
    [undefined, '/'],
    ['/', '/'],
    ['/admin/', '/admin/'],
    ['/admin/#/audit?x=1', '/admin/#/audit?x=1'],
    ['/c/../admin/', '/admin/'],
    // Stays percent-encoded, which is harmless in a Location header.
    ['/%0d%0a', '/%0d%0a'],
  ])('accepts the same-site path %s as %s', (raw, want) => {
    expect(safeReturnTo(raw)).toBe(want);
  });

  it.each([
    'https://evil.example/',
    '//evil.example/',
    '/\\evil.example/',
    '\\\\evil.example',
    'admin/',
    'javascript:alert(1)',
    '/admin/\nSet-Cookie: x=1',
    ['/admin/'],
    `/${'a'.repeat(3000)}`,
  ])('refuses %s', (raw) => {
    expect(safeReturnTo(raw)).toBeNull();
  });
});
