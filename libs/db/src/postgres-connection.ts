import pg from 'pg';
import { parsePostgresUrl } from './postgres-hosts.js';
import { PrimaryFinder, primaryClientClass } from './primary-finder.js';

// One finder (and client class) per URL and process: every pool and client of that URL learns
// together that the primary moved.
const finders = new Map<string, { finder: PrimaryFinder; Client: typeof pg.Client }>();
// URLs whose leader Patroni names (ENCLAVE_PATRONI_URLS), registered by databaseUrl(config).
const patroniFor = new Map<string, readonly string[]>();

/**
 * From now on, connections to `url` go to the node Patroni's REST APIs (`patroniUrls`) name as
 * leader, whatever hosts `url` lists (its user, password, database and parameters are kept).
 */
export function usePatroniFor(url: string, patroniUrls: readonly string[]): void {
  if (!patroniUrls.length) return;
  const known = patroniFor.get(url);
  if (known && known.join(',') === patroniUrls.join(',')) return;
  patroniFor.set(url, [...patroniUrls]);
  finders.delete(url);
}

/** For a multi-host or Patroni-managed URL, the finder that tracks its primary; otherwise null. */
export function primaryFinderFor(url: string): PrimaryFinder | null {
  return multiHost(url)?.finder ?? null;
}

function multiHost(url: string): { finder: PrimaryFinder; Client: typeof pg.Client } | null {
  let entry = finders.get(url);
  if (entry) return entry;
  let parsed;
  try {
    parsed = parsePostgresUrl(url);
  } catch {
    return null; // not ours to judge (e.g. a Unix socket in ?host=): pg reads it as it is
  }
  const patroni = patroniFor.get(url) ?? [];
  if (parsed.hosts.length < 2 && !patroni.length) return null;
  const finder = new PrimaryFinder(parsed, undefined, patroni);
  entry = { finder, Client: primaryClientClass(finder) };
  finders.set(url, entry);
  return entry;
}

/**
 * What a pg.Pool (or TypeORM's `url` + `extra`) needs for `url`: a one-host URL is used as it is;
 * a multi-host or Patroni-managed one becomes its first host's URL plus a Client class that connects to whichever
 * host is primary at the time.
 */
export function poolConnection(url: string): { url: string; Client?: typeof pg.Client } {
  const entry = multiHost(url);
  if (!entry) return { url };
  return { url: entry.finder.url.forHost(entry.finder.url.hosts[0]!), Client: entry.Client };
}

/**
 * A single (unconnected) client, e.g. for LISTEN or a session-level advisory lock, that lands on
 * the primary when `url` names several hosts.
 */
export function pgClient(url: string, options: Omit<pg.ClientConfig, 'connectionString'> = {}) {
  const { url: connectionString, Client = pg.Client } = poolConnection(url);
  return new Client({ ...options, connectionString });
}
