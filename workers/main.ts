// Standalone worker process: `npm run worker`. Uses DATABASE_URL / TEMPORAL_ADDRESS, or embedded defaults.
import { loadConfig } from '../lib/config.js';
import { connectWorker } from './temporal-connection.js';
import { startRuntime } from './runtime.js';
import { createWorkers, workerConfig } from './worker.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const runtime = await startRuntime(config, (m) => console.log(m));
  const connection = await connectWorker(runtime.temporalAddress);
  try {
    const workers = await createWorkers(workerConfig(runtime, connection));
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => workers.shutdown());
    console.log(`Workers polling ${config.taskQueues.orchestration} and ${config.taskQueues.train} on ${runtime.temporalAddress}`);
    await workers.run();
  } finally {
    await connection.close();
    await runtime.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
