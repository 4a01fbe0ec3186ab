import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { findPatroniLeader } from '@enclave/db';
import { DatabaseUnavailableError } from '@enclave/http';

// The decision alone, on answers shaped like Patroni 3.0's `GET /primary` and `GET /cluster`
// (served by plain HTTP servers here); test/deploy/patroni-failover runs it against real Patroni.
interface Node {
  leads: boolean;
  leader: string | null;
}

const ADDRESS: Record<string, { host: string; port: number }> = {
  pg1: { host: '10.0.0.11', port: 5432 },
  pg2: { host: '10.0.0.12', port: 5432 },
};

describe('findPatroniLeader', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  async function patroni(node: Node): Promise<string> {
    const server = createServer((req, res) => {
      if (req.url === '/primary') {
        res.writeHead(node.leads ? 200 : 503).end('{}');
      } else if (req.url === '/cluster') {
        const members = Object.entries(ADDRESS).map(([name, a]) => ({
          name,
          role: name === node.leader ? 'leader' : 'replica',
          state: 'running',
          ...a,
        }));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ members }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('names the Postgres address of the one node that holds the lock', async () => {
    const urls = [
      await patroni({ leads: false, leader: 'pg2' }),
      await patroni({ leads: true, leader: 'pg2' }),
    ];
    expect(await findPatroniLeader(urls, 1_000)).toEqual(ADDRESS.pg2);
  });

  it('fails closed while no node holds the lock (a failover in progress)', async () => {
    const urls = [
      await patroni({ leads: false, leader: null }),
      await patroni({ leads: false, leader: null }),
    ];
    await expect(findPatroniLeader(urls, 1_000)).rejects.toThrow(DatabaseUnavailableError);
    await expect(findPatroniLeader(urls, 1_000)).rejects.toThrow(/^no Patroni leader/);
  });

  it('fails closed when two nodes claim the lock or their views disagree', async () => {
    const two = [
      await patroni({ leads: true, leader: 'pg1' }),
      await patroni({ leads: true, leader: 'pg2' }),
    ];
    await expect(findPatroniLeader(two, 1_000)).rejects.toThrow(/disagree on the leader/);
    const disagree = [
      await patroni({ leads: true, leader: 'pg1' }),
      await patroni({ leads: false, leader: 'pg2' }),
    ];
    await expect(findPatroniLeader(disagree, 1_000)).rejects.toThrow(DatabaseUnavailableError);
  });

  it('still finds the leader with a node down, and says which failed how when all are', async () => {
    const down = 'http://127.0.0.1:9';
    const up = await patroni({ leads: true, leader: 'pg1' });
    expect(await findPatroniLeader([down, up], 1_000)).toEqual(ADDRESS.pg1);
    await expect(findPatroniLeader([down], 1_000)).rejects.toThrow(
      /^no Patroni leader \(http:\/\/127\.0\.0\.1:9: /,
    );
  });
});
