// A throwaway database for one benchmark: a scratch database created in DATABASE_URL's Postgres (dropped after),
// or, without DATABASE_URL, an embedded PGlite (in this process, so it competes with what is measured).
import pg from 'pg';
import { startEmbeddedPostgres } from '../lib/runtime/embedded-postgres.js';
import { freePort } from '../lib/runtime/ports.js';

export interface ScratchDatabase {
  url: string;
  /** How the results should name it: `Postgres` or `embedded PGlite`. */
  kind: string;
  drop(): Promise<void>;
}

export async function scratchDatabase(label: string): Promise<ScratchDatabase> {
  if (!process.env.DATABASE_URL) {
    const embedded = await startEmbeddedPostgres({ port: await freePort() });
    return { url: embedded.url, kind: 'embedded PGlite', drop: embedded.stop };
  }
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  const name = `mlcycle_bench_${label.replace(/\W/g, '_')}_${process.pid}`;
  await admin.query(`create database ${name}`);
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    kind: 'Postgres',
    drop: async () => {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
