import pg from 'pg';

/**
 * Counts the statements every pg client of this process sends while `work` runs: each is one
 * round trip to Postgres (the driver sends parse/bind/execute/sync together), BEGIN and COMMIT
 * included. It only counts; the statements run as they would.
 */
export async function statementsDuring(work: () => Promise<void>): Promise<string[]> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const seen: string[] = [];
  proto.query = function (this: unknown, ...args: unknown[]) {
    const [first] = args;
    seen.push(typeof first === 'string' ? first : String((first as { text?: string })?.text));
    return original.apply(this, args);
  };
  try {
    await work();
  } finally {
    proto.query = original;
  }
  return seen;
}
