// The embedded Postgres path (PGlite over the wire protocol) and migrations raced by two processes' pools.
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ingestDataset, listDatasetVersions } from '../../lib/data/datasets.js';
import { startEmbeddedPostgres } from '../../lib/runtime/embedded-postgres.js';
import { freePort } from '../../lib/runtime/ports.js';
import { ArtifactStore } from '../../lib/storage/artifacts.js';
import { connectDb, POOL_SIZE } from '../../lib/storage/db.js';
import { loadMigrations, migrate } from '../../lib/storage/migrate.js';
import { StartupError } from '../../lib/errors.js';

async function raceMigrations(url: string) {
  const [a, b] = [await connectDb(url, 2), await connectDb(url, 2)];
  try {
    const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
    const all = (await loadMigrations()).map((m) => m.name);
    // Exactly one of the two applied each migration.
    expect([...ra, ...rb].sort()).toEqual(all.sort());
    const { rows } = await a.query('select version from schema_migrations order by version');
    expect(rows.map((r) => r.version)).toEqual((await loadMigrations()).map((m) => m.version));
    expect(await migrate(a)).toEqual([]);
  } finally {
    await a.end();
    await b.end();
  }
}

describe('embedded Postgres', () => {
  it('serves the pg driver, migrates once under a race, and keeps data across restarts', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pglite-'));
    const port = await freePort();
    let server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port });
    try {
      await raceMigrations(server.url);
      const db = await connectDb(server.url);
      // A full pool of concurrent clients must be accepted.
      const results = await Promise.all(Array.from({ length: POOL_SIZE }, (_, i) => db.query('select $1::int as i, pg_sleep(0.01)', [i])));
      expect(results.map((r) => r.rows[0].i)).toEqual(Array.from({ length: POOL_SIZE }, (_, i) => i));
      const csv = path.join(dir, 'd.csv');
      await writeFile(csv, 'a,b\n1,x\n2,y\n');
      const artifacts = new ArtifactStore(path.join(dir, 'artifacts'));
      const created = await ingestDataset({ db, artifacts }, { name: 'persisted', sourceUri: csv });
      expect(created.created).toBe(true);
      await db.end();
      await server.stop();

      server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port });
      const db2 = await connectDb(server.url);
      expect(await migrate(db2)).toEqual([]);
      const versions = await listDatasetVersions(db2, 'persisted');
      expect(versions.map((v) => v.id)).toEqual([created.id]);
      const again = await ingestDataset({ db: db2, artifacts }, { name: 'persisted', sourceUri: csv });
      expect(again).toMatchObject({ id: created.id, created: false });
      await db2.end();
    } finally {
      await server.stop();
    }
  });

  it('refuses a busy port with a message that names the fix', async () => {
    const port = await freePort();
    const first = await startEmbeddedPostgres({ port });
    try {
      const err = await startEmbeddedPostgres({ port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StartupError);
      expect((err as Error).message).toMatch(/DATABASE_URL|MLCYCLE_EMBEDDED_PG_PORT/);
    } finally {
      await first.stop();
    }
  });
});

describe.runIf(process.env.DATABASE_URL)('migrations on a real Postgres server', () => {
  it('applies each migration exactly once when two processes start together', async () => {
    const base = process.env.DATABASE_URL!;
    const name = `mlcycle_migrate_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create database ${name}`);
    try {
      const url = new URL(base);
      url.pathname = `/${name}`;
      await raceMigrations(url.toString());
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
