import { roleFromClaim } from './role-mapping.js';

const MAP = { 'enclave-admins': 'admin', 'enclave-auditors': 'auditor', staff: 'user' } as const;

describe('roleFromClaim', () => {
  it('gives the highest role any value maps to', () => {
    expect(roleFromClaim(['staff', 'enclave-admins', 'enclave-auditors'], MAP)).toBe('admin');
    expect(roleFromClaim(['staff', 'enclave-auditors'], MAP)).toBe('auditor');
    expect(roleFromClaim('staff', MAP)).toBe('user');
  });

  it('gives no role when nothing maps, or the claim is missing or of another type', () => {
    expect(roleFromClaim(['contractors'], MAP)).toBeNull();
    expect(roleFromClaim([], MAP)).toBeNull();
    expect(roleFromClaim(undefined, MAP)).toBeNull();
    expect(roleFromClaim({ 'enclave-admins': true }, MAP)).toBeNull();
    expect(roleFromClaim([42, 'staff'], MAP)).toBe('user');
  });

  it('matches values exactly, and never through inherited object keys', () => {
    expect(roleFromClaim(['Enclave-Admins', 'staff '], MAP)).toBeNull();
    expect(roleFromClaim(['constructor', 'toString', '__proto__'], MAP)).toBeNull();
  });
});
