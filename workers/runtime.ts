// Brings up what every mlcycle process needs: Postgres (given or embedded), migrations, artifacts,
// Temporal (given or embedded dev server) with search attributes. On failure, stops what it started.
import path from 'node:path';
import { Client, type Connection } from '@temporalio/client';
import type { Config } from '../lib/config.js';
import { startDevServer } from '../lib/runtime/dev-server.js';
import { startEmbeddedPostgres } from '../lib/runtime/embedded-postgres.js';
import { resolveTemporalCli } from '../lib/runtime/temporal-cli.js';
import { openOnlineStore, type OnlineStore } from '../lib/features/online-store.js';
import { ArtifactStore } from '../lib/storage/artifacts.js';
import { connectDb, type Db } from '../lib/storage/db.js';
import { migrate } from '../lib/storage/migrate.js';
import { ensureSearchAttributes } from './search-attributes.js';
import { connectClient } from './temporal-connection.js';

export interface Runtime {
  config: Config;
  db: Db;
  databaseUrl: string;
  artifacts: ArtifactStore;
  /** Online feature store (MLCYCLE_ONLINE_STORE): what materialization writes and serving reads. */
  onlineStore: OnlineStore;
  temporalAddress: string;
  connection: Connection;
  client: Client;
  /** Set when mlcycle started the dev server itself. */
  temporalUiUrl?: string;
  embedded: { postgres: boolean; temporal: boolean };
  close(): Promise<void>;
}

type Log = (msg: string) => void;

export async function startRuntime(config: Config, log: Log = () => {}): Promise<Runtime> {
  const cleanups: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
    cleanups.length = 0;
  };
  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const pgDir = path.join(config.dataDir, 'postgres');
      log(`Starting embedded Postgres (PGlite, data in ${pgDir}) on 127.0.0.1:${config.embeddedPostgresPort}`);
      const pg = await startEmbeddedPostgres({ dataDir: pgDir, port: config.embeddedPostgresPort });
      cleanups.push(pg.stop);
      databaseUrl = pg.url;
    }
    const db = await connectDb(databaseUrl);
    cleanups.push(() => db.end());
    const applied = await migrate(db);
    if (applied.length > 0) log(`Applied migrations: ${applied.join(', ')}`);
    const onlineStore = await openOnlineStore(config.onlineStore, db);
    cleanups.push(() => onlineStore.close());
    if (onlineStore.backend !== 'postgres') log(`Online feature store: ${onlineStore.backend}`);

    let temporalAddress = config.temporal.address;
    let temporalUiUrl: string | undefined;
    if (!temporalAddress) {
      const cliPath = await resolveTemporalCli({ cliPath: config.temporal.cliPath, dataDir: config.dataDir, log });
      const dbFile = path.join(config.dataDir, 'temporal', 'dev-server.db');
      log(`Starting Temporal dev server (${cliPath}, history in ${dbFile})`);
      const server = await startDevServer({
        cliPath,
        port: config.temporal.devServerPort,
        uiPort: config.temporal.uiPort,
        dbFile,
        namespace: config.temporal.namespace,
      });
      cleanups.push(server.stop);
      temporalAddress = server.address;
      temporalUiUrl = server.uiUrl;
    }
    const connection = await connectClient(temporalAddress);
    cleanups.push(() => connection.close());
    const added = await ensureSearchAttributes(connection, config.temporal.namespace);
    if (added.length > 0) log(`Registered search attributes: ${added.join(', ')}`);
    const client = new Client({ connection, namespace: config.temporal.namespace });

    return {
      config,
      db,
      databaseUrl,
      artifacts: new ArtifactStore(config.artifactDir),
      onlineStore,
      temporalAddress,
      connection,
      client,
      temporalUiUrl,
      embedded: { postgres: !config.databaseUrl, temporal: !config.temporal.address },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
