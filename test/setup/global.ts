// One Temporal dev server and one Postgres for the whole integration suite.
// Postgres: DATABASE_URL if set (a fresh database is created in it and dropped after), else embedded PGlite.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../lib/runtime/dev-server.js';
import { startEmbeddedPostgres } from '../../lib/runtime/embedded-postgres.js';
import { freePort } from '../../lib/runtime/ports.js';
import { resolveTemporalCli } from '../../lib/runtime/temporal-cli.js';
import { connectDb } from '../../lib/storage/db.js';
import { migrate } from '../../lib/storage/migrate.js';
import { ensureSearchAttributes } from '../../workers/search-attributes.js';
import { connectClient } from '../../workers/temporal-connection.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    temporalCliPath: string;
  }
}

async function freshDatabase(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `mlcycle_test_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cleanups: Array<() => Promise<void>> = [];
  const cliPath = await resolveTemporalCli({
    cliPath: process.env.TEMPORAL_CLI_PATH || undefined,
    dataDir: path.resolve('.data'),
    log: (m) => console.log(m),
  });
  const server = await startDevServer({ cliPath, port: await freePort(), namespace: 'default' });
  cleanups.push(server.stop);

  let databaseUrl: string;
  if (process.env.DATABASE_URL) {
    const db = await freshDatabase(process.env.DATABASE_URL);
    cleanups.push(db.drop);
    databaseUrl = db.url;
  } else {
    const embedded = await startEmbeddedPostgres({ port: await freePort() });
    cleanups.push(embedded.stop);
    databaseUrl = embedded.url;
  }
  const db = await connectDb(databaseUrl, 2);
  await migrate(db);
  await db.end();

  const connection = await connectClient(server.address);
  await ensureSearchAttributes(connection, 'default');
  await connection.close();

  project.provide('temporalAddress', server.address);
  project.provide('databaseUrl', databaseUrl);
  project.provide('temporalCliPath', cliPath);
  return async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => console.error(err));
  };
}
