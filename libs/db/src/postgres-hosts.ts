/** One Postgres server of a (possibly multi-host) DATABASE_URL. */
export interface PostgresHost {
  host: string;
  port: number;
}

export interface PostgresUrl {
  /** In the order given: the first that answers as primary wins. */
  hosts: PostgresHost[];
  /** The same URL naming only `host`: what the `pg` driver (one host per client) understands. */
  forHost(host: PostgresHost): string;
}

// scheme://[userinfo@]hostlist[/database][?params]; userinfo may hold ':' (the password) but no '@'.
const URL_SHAPE = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]+)(.*)$/;

/**
 * Reads a libpq-style multi-host URL, `postgres://user:pw@db1:5432,db2:5432/enclave`, which
 * WHATWG `new URL()` (and so `pg`) refuses. A single-host URL comes back with one host.
 * Throws with a message that names the problem but never the password.
 */
export function parsePostgresUrl(url: string): PostgresUrl {
  const m = URL_SHAPE.exec(url.trim());
  if (!m) throw new Error('not a postgres://user:password@host:port/database URL');
  const [, scheme, userinfo, hostlist, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  const hosts = hostlist.split(',').map((entry): PostgresHost => {
    let parsed: URL;
    try {
      parsed = new URL(`postgres://${entry}`);
    } catch {
      throw new Error(`host "${entry}" is not host or host:port`);
    }
    if (!parsed.hostname || parsed.pathname || parsed.username) {
      throw new Error(`host "${entry}" is not host or host:port`);
    }
    return {
      host: parsed.hostname.replace(/^\[(.+)\]$/, '$1'),
      port: parsed.port ? Number(parsed.port) : 5432,
    };
  });
  const prefix = `${scheme}${userinfo !== undefined ? `${userinfo}@` : ''}`;
  return {
    hosts,
    forHost: ({ host, port }) =>
      `${prefix}${host.includes(':') ? `[${host}]` : host}:${port}${rest}`,
  };
}

/** "db1:5432, db2:5433", for messages. */
export function describeHosts(hosts: PostgresHost[]): string {
  return hosts.map((h) => `${h.host}:${h.port}`).join(', ');
}
