// Embedded Postgres: PGlite served over the wire protocol, so the `pg` driver works unchanged.
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { StartupError } from '../errors.js';
import { POOL_SIZE } from '../storage/db.js';
import { isListening } from './ports.js';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
// Each process that shares the embedded server opens up to POOL_SIZE connections (worker, API, CLI).
const MAX_CONNECTIONS = POOL_SIZE * 4;

/** Starts PGlite with its data in `dataDir` (or in memory when undefined) and serves it on loopback. */
export async function startEmbeddedPostgres(opts: { dataDir?: string; port: number }): Promise<EmbeddedPostgres> {
  if (opts.port !== 0 && (await isListening(HOST, opts.port))) {
    throw new StartupError(
      `Port ${opts.port} is already in use, so the embedded Postgres cannot start. ` +
        'Set DATABASE_URL to use a running Postgres, or MLCYCLE_EMBEDDED_PG_PORT to pick a free port.',
    );
  }
  if (opts.dataDir) await mkdir(opts.dataDir, { recursive: true });
  let db: PGlite;
  try {
    db = await PGlite.create(opts.dataDir);
  } catch (err) {
    throw new StartupError(
      `The embedded Postgres could not open ${opts.dataDir ?? 'an in-memory database'}: ${(err as Error).message}. ` +
        'If another mlcycle process uses this data directory, stop it or set MLCYCLE_DATA_DIR to another directory.',
      { cause: err },
    );
  }
  const server = new PGLiteSocketServer({ db, host: HOST, port: opts.port, maxConnections: MAX_CONNECTIONS });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw new StartupError(`The embedded Postgres could not listen on ${HOST}:${opts.port}: ${(err as Error).message}`, { cause: err });
  }
  const [, port] = server.getServerConn().split(':');
  return {
    url: `postgres://postgres:postgres@${HOST}:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
