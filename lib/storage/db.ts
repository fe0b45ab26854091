// Postgres pool creation with a start-up check that turns connection failures into actionable errors.
import pg from 'pg';
import { StartupError } from '../errors.js';
import { redactPassword } from '../util/redact.js';

export type Db = pg.Pool;

/** Pool size; the embedded Postgres must accept at least this many connections per process. */
export const POOL_SIZE = 10;

/** Opens a pool and proves it works with one round trip; fails with a message naming the URL and the fix. */
export async function connectDb(databaseUrl: string, max = POOL_SIZE): Promise<Db> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 10_000 });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  try {
    await pool.query('select 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw new StartupError(
      `Cannot connect to Postgres at ${redactPassword(databaseUrl) ?? '(unparseable URL)'}: ${(err as Error).message}. ` +
        'Check that the server is running and DATABASE_URL is right, or unset DATABASE_URL to use the embedded Postgres.',
      { cause: err },
    );
  }
  return pool;
}

/** Runs `fn` in a transaction on one client; rolls back on any error. */
export async function withTransaction<T>(db: Db, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** PGlite's wire server cannot take COPY FROM STDIN; bulk writers ask before choosing COPY. */
export async function supportsCopyFromStdin(db: Pick<pg.ClientBase, 'query'>): Promise<boolean> {
  const { rows } = await db.query<{ version: string }>('select version()');
  return !rows[0].version.includes('PGlite');
}
