import pg from 'pg';

// Jest loads this file outside the test module graph, so it imports nothing of ours.
const ADMIN_URL =
  process.env.ENCLAVE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Fail the run at once, with what to do, when the test Postgres is not there. */
export default async function globalSetup(): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `The tests need a real Postgres at ${redacted(ADMIN_URL)} (${(err as Error).message}). ` +
        'Run them with `npm test` (it starts a throwaway one) or set ENCLAVE_TEST_POSTGRES_URL to a role that may CREATE DATABASE.',
      { cause: err },
    );
  } finally {
    await client.end().catch(() => {});
  }
}

function redacted(url: string): string {
  return url.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1:***@');
}
