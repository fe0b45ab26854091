// `mlcycle start`: Temporal + Postgres (embedded unless configured), both workers and the API in one
// process, then the demo job. Ctrl-C stops everything in reverse order.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { buildApp } from '../api/app.js';
import { ADMIN_KEY_FILE, ensureAdminKey } from '../api/auth.js';
import type { Config } from '../lib/config.js';
import { connectWorker } from '../workers/temporal-connection.js';
import { startRuntime } from '../workers/runtime.js';
import { createWorkers, workerConfig } from '../workers/worker.js';
import { runDemo } from './demo.js';

/** The API key the CLI sends: MLCYCLE_API_KEY, else the admin key the first `npm start` wrote to the data directory. */
export async function cliApiKey(config: Config): Promise<string> {
  if (config.apiKey) return config.apiKey;
  const file = path.join(config.dataDir, ADMIN_KEY_FILE);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    throw new Error(`No API key: set MLCYCLE_API_KEY, or run \`npm start\` once so it writes the first admin key to ${file}.`);
  }
}

export async function start(config: Config, opts: { demo: boolean }): Promise<void> {
  const log = (m: string) => console.log(`[mlcycle] ${m}`);
  // The Web UI shows runs in detail; the console keeps to warnings so the demo's instructions stay readable.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const runtime = await startRuntime(config, log);
  const cleanups: Array<() => Promise<void>> = [() => runtime.close()];
  const stopAll = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err) => console.error(err));
    cleanups.length = 0;
  };
  try {
    const connection = await connectWorker(runtime.temporalAddress);
    cleanups.push(() => connection.close());
    const workers = await createWorkers(workerConfig(runtime, connection));
    const workersDone = workers.run();
    cleanups.push(async () => {
      workers.shutdown();
      await workersDone;
    });
    const admin = await ensureAdminKey(runtime.db, config.dataDir);
    if (admin.created) {
      log(`Created the first admin API key (shown once; only its hash is stored, and a copy is in ${admin.file}):`);
      log(`  ${admin.key}`);
    }
    const apiKey = await cliApiKey(config).catch(() => undefined);
    const app = await buildApp({ config, db: runtime.db, artifacts: runtime.artifacts, client: runtime.client, onlineStore: runtime.onlineStore }, { logger: { level: 'warn' } });
    cleanups.push(() => app.close());
    const address = await app.listen({ host: config.api.host, port: config.api.port });
    log(`API listening on ${address}`);
    if (runtime.temporalUiUrl) log(`Temporal Web UI: ${runtime.temporalUiUrl}`);

    const stopped = new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
    });
    // A worker that dies takes the process down rather than leaving an API that cannot make progress.
    const crashed = workersDone.then(
      () => undefined,
      (err: unknown) => err,
    );
    if (opts.demo) {
      if (!apiKey) throw new Error(`The demo needs an API key: set MLCYCLE_API_KEY to an admin or trainer key (${admin.file} is gone).`);
      await runDemo({
        apiUrl: address,
        apiKey,
        keyFile: config.apiKey ? undefined : admin.file,
        dataDir: path.join(config.dataDir, 'demo'),
        temporalAddress: runtime.temporalAddress,
        namespace: config.temporal.namespace,
        uiUrl: runtime.temporalUiUrl,
        log,
      });
    }
    log('Running. Press Ctrl-C to stop.');
    const err = await Promise.race([stopped.then(() => undefined), crashed]);
    if (err) throw err;
    log('Stopping ...');
  } finally {
    await stopAll();
  }
}
