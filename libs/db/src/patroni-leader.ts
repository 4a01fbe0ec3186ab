import { DatabaseUnavailableError } from '@enclave/http';
import type { PostgresHost } from './postgres-hosts.js';

interface ClusterMember {
  name: string;
  role: string;
  host: string;
  port: number;
}

/** What one Patroni node said: whether it holds the leader lock, and its view of the members. */
interface NodeAnswer {
  url: string;
  leads: boolean;
  members: ClusterMember[] | null;
  error: string | null;
}

/**
 * The Postgres server to write to, as Patroni's REST APIs tell it: exactly one node must answer
 * `GET /primary` with 200 (Patroni does only while it holds the leader lock in etcd and its
 * Postgres runs as primary), and every node's `GET /cluster` that names a leader must name that
 * same one. Anything else (no leader during a failover, two claimants, nodes that disagree)
 * throws DatabaseUnavailableError: writes fail closed rather than guess.
 */
export async function findPatroniLeader(
  urls: readonly string[],
  timeoutMs: number,
): Promise<PostgresHost> {
  const answers = await Promise.all(urls.map((url) => askNode(url, timeoutMs)));
  const claimants = answers.filter((a) => a.leads);
  const named = distinct(
    answers.flatMap((a) => (a.members ?? []).filter((m) => m.role === 'leader')),
  );
  const why = () =>
    answers.map((a) => `${a.url}: ${a.error ?? (a.leads ? 'leader' : 'not leader')}`).join('; ');
  if (claimants.length === 0) {
    throw new DatabaseUnavailableError(`no Patroni leader (${why()})`);
  }
  if (claimants.length > 1 || named.length !== 1) {
    throw new DatabaseUnavailableError(
      `Patroni nodes disagree on the leader (${claimants.length} claim it; named: ${
        named.map((m) => m.name).join(', ') || 'none'
      }; ${why()})`,
    );
  }
  const leader = named[0]!;
  // The claimant's own view must name the leader: ties the node holding the lock to an address.
  if (!claimants[0]!.members?.some((m) => m.role === 'leader' && m.name === leader.name)) {
    throw new DatabaseUnavailableError(
      `Patroni at ${claimants[0]!.url} holds the lock but does not name ${leader.name} as leader`,
    );
  }
  return { host: leader.host, port: leader.port };
}

async function askNode(base: string, timeoutMs: number): Promise<NodeAnswer> {
  const url = base.replace(/\/+$/, '');
  try {
    const [primary, cluster] = await Promise.all([
      fetch(`${url}/primary`, { signal: AbortSignal.timeout(timeoutMs) }),
      fetch(`${url}/cluster`, { signal: AbortSignal.timeout(timeoutMs) }),
    ]);
    await primary.body?.cancel();
    if (!cluster.ok) {
      await cluster.body?.cancel();
      return { url, leads: false, members: null, error: `GET /cluster answered ${cluster.status}` };
    }
    const body = (await cluster.json()) as { members?: ClusterMember[] };
    return { url, leads: primary.status === 200, members: body.members ?? [], error: null };
  } catch (err) {
    return { url, leads: false, members: null, error: (err as Error).message || String(err) };
  }
}

function distinct(members: ClusterMember[]): ClusterMember[] {
  const byKey = new Map(members.map((m) => [`${m.name}@${m.host}:${m.port}`, m]));
  return [...byKey.values()];
}
