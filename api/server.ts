// Standalone API process: `npm run api`. Listens, and on SIGINT/SIGTERM drains and closes.
import { loadConfig } from '../lib/config.js';
import { ensureAdminKey } from './auth.js';
import { startRuntime } from '../workers/runtime.js';
import { buildApp } from './app.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const runtime = await startRuntime(config, (m) => console.log(m));
  // A fresh deployment needs one way in: the first admin key, printed once (a copy goes to the data dir).
  const admin = await ensureAdminKey(runtime.db, config.dataDir);
  if (admin.created) console.log(`Created the first admin API key (shown once; a copy is in ${admin.file}): ${admin.key}`);
  const app = await buildApp({ config, db: runtime.db, artifacts: runtime.artifacts, client: runtime.client, onlineStore: runtime.onlineStore });
  const stop = async () => {
    await app.close();
    await runtime.close();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop().then(() => process.exit(0)));
  try {
    await app.listen({ host: config.api.host, port: config.api.port });
  } catch (err) {
    await stop();
    throw err;
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
