import { ROLES, type Role } from '../roles.js';

/**
 * The Enclave role a provider's claim gives: each value of the claim (a string, or a list of
 * strings such as groups) is looked up in the role map, and the highest role found wins. null
 * when no value maps to a role (the user is refused).
 */
export function roleFromClaim(
  claim: unknown,
  roleMap: Readonly<Record<string, Role>>,
): Role | null {
  const values = claimValues(claim);
  let best: Role | null = null;
  for (const value of values) {
    const role = Object.hasOwn(roleMap, value) ? roleMap[value]! : null;
    if (role && (best === null || ROLES.indexOf(role) > ROLES.indexOf(best))) best = role;
  }
  return best;
}

/** A claim as a list of strings (other types in it are ignored). */
export function claimValues(claim: unknown): string[] {
  if (typeof claim === 'string') return [claim];
  if (Array.isArray(claim)) return claim.filter((v): v is string => typeof v === 'string');
  return [];
}

/** The Enclave groups a provider's claim puts a user in (the group map's names, each once). */
export function groupsFromClaim(
  claim: unknown,
  groupMap: Readonly<Record<string, readonly string[]>>,
): string[] {
  const groups = new Set<string>();
  for (const value of claimValues(claim)) {
    for (const group of Object.hasOwn(groupMap, value) ? groupMap[value]! : []) groups.add(group);
  }
  return [...groups];
}
