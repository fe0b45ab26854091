// Per-test-file stack on the suite's shared Temporal and Postgres: own task queue, own artifact dir,
// real workers, and the API listening on a loopback port.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { DefaultLogger, Runtime as CoreRuntime, type NativeConnection } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.js';
import { createApiKey, type Role } from '../../api/auth.js';
import { loadConfig, type Config } from '../../lib/config.js';
import { connectWorker } from '../../workers/temporal-connection.js';
import { startRuntime, type Runtime } from '../../workers/runtime.js';
import { createWorkers, workerConfig, type Workers } from '../../workers/worker.js';

export interface Stack {
  config: Config;
  runtime: Runtime;
  app: FastifyInstance;
  url: string;
  workers: Workers;
  tmpDir: string;
  /** The admin API key `api` sends by default. */
  adminKey: string;
  /**
   * fetch against the API with JSON in and out, as the admin key unless `key` names another
   * (null: no key at all). Non-JSON answers come back as text.
   */
  api<T = any>(method: string, route: string, body?: unknown, options?: { key?: string | null }): Promise<{ status: number; body: T }>;
  /** Creates an API key with these roles; `name` is the identity it acts as (default: the roles joined). */
  createKey(roles: Role[], name?: string): Promise<string>;
  /** A key named `name` with `roles`, created on first use and reused after (approvers act as their key's name). */
  keyFor(name: string, roles: Role[]): Promise<string>;
  stop(): Promise<void>;
}

let loggerInstalled = false;

export function testConfig(tmpDir: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    DATABASE_URL: inject('databaseUrl'),
    MLCYCLE_TASK_QUEUE: `test-${randomUUID().slice(0, 8)}`,
    MLCYCLE_DATA_DIR: tmpDir,
    LOG_LEVEL: 'warn',
    ...extra,
  });
}

export async function startStack(): Promise<Stack> {
  if (!loggerInstalled) {
    CoreRuntime.install({ logger: new DefaultLogger('ERROR') });
    loggerInstalled = true;
  }
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'mlcycle-test-'));
  const config = testConfig(tmpDir);
  const runtime = await startRuntime(config);
  let connection: NativeConnection | undefined;
  try {
    connection = await connectWorker(runtime.temporalAddress);
    const workers = await createWorkers(workerConfig(runtime, connection));
    const running = workers.run();
    const app = await buildApp({ config, db: runtime.db, artifacts: runtime.artifacts, client: runtime.client, onlineStore: runtime.onlineStore }, { logger: false });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const conn = connection;
    const createKey = async (roles: Role[], name?: string) => (await createApiKey(runtime.db, { name: name ?? roles.join('+'), roles, createdBy: 'test' })).key;
    const adminKey = await createKey(['admin'], 'admin');
    const named = new Map<string, Promise<string>>();
    const keyFor = (name: string, roles: Role[]) => {
      let key = named.get(name);
      if (!key) named.set(name, (key = createKey(roles, name)));
      return key;
    };
    return {
      config,
      runtime,
      app,
      url,
      workers,
      tmpDir,
      adminKey,
      createKey,
      keyFor,
      async api(method, route, body, options = {}) {
        const key = options.key === undefined ? adminKey : options.key;
        const headers: Record<string, string> = {};
        if (body !== undefined) headers['content-type'] = 'application/json';
        if (key !== null) headers.authorization = `Bearer ${key}`;
        const res = await fetch(url + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        const text = await res.text();
        let parsed: any = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON (e.g. the HTML report): the text itself
        }
        return { status: res.status, body: parsed };
      },
      async stop() {
        await app.close();
        workers.shutdown();
        await running;
        await conn.close();
        await runtime.close();
        await rm(tmpDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await connection?.close();
    await runtime.close();
    throw err;
  }
}

/** Polls `fn` until `done` holds or the timeout passes; returns the last value. */
export async function waitFor<T>(fn: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await fn();
  }
  return last;
}
