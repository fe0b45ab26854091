// The one typed configuration object, validated once at start-up from the environment.
import path from 'node:path';
import { ConfigError } from './errors.js';
import { taskQueues } from './task-queues.js';
import { redactPassword } from './util/redact.js';

export interface Config {
  /** Root of all local state (embedded Postgres, dev-server history, artifacts). */
  dataDir: string;
  artifactDir: string;
  /** Postgres URL; undefined means "run the embedded Postgres". */
  databaseUrl?: string;
  embeddedPostgresPort: number;
  temporal: {
    /** host:port of a Temporal frontend; undefined means "start the embedded dev server". */
    address?: string;
    namespace: string;
    cliPath?: string;
    devServerPort: number;
    uiPort: number;
  };
  /** `orchestration` takes workflows and light activities; `train` (derived) takes CPU-heavy ones. */
  taskQueues: { orchestration: string; train: string };
  /** How many CPU-heavy activities one training worker runs at once. */
  trainConcurrency: number;
  api: { host: string; port: number };
  /** Online serving runtime. */
  serving: {
    /** Rows per onnxruntime call at most when concurrent requests are micro-batched. */
    maxBatchRows: number;
    /** How long a request waits for others to share its scoring call; 0 = only those already queued. */
    maxWaitMs: number;
    /** A version that has not answered after this long is abandoned for the fallback version. */
    timeoutMs: number;
  };
  /** Online feature store: the Postgres table (default) or a Redis/Valkey database (MLCYCLE_ONLINE_STORE=redis://...). */
  onlineStore: { backend: 'postgres' } | { backend: 'redis'; url: string };
  /** API key the CLI sends (MLCYCLE_API_KEY); unset means `<dataDir>/admin-api-key`, written by the first `npm start`. */
  apiKey?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Defaults that other modules (docker-compose check, README) refer to. */
export const DEFAULTS = {
  dataDir: '.data',
  namespace: 'default',
  devServerPort: 7233,
  uiPort: 8233,
  embeddedPostgresPort: 5433,
  apiHost: '127.0.0.1',
  apiPort: 3000,
  orchestrationQueue: 'mlcycle',
  trainConcurrency: 1,
  predictMaxBatchRows: 256,
  predictMaxWaitMs: 0,
  predictTimeoutMs: 1000,
} as const;

/** Every variable `loadConfig` reads, so docs and the compose file can be checked against it. */
export const ENV_VARS = [
  'MLCYCLE_DATA_DIR',
  'ARTIFACT_DIR',
  'DATABASE_URL',
  'MLCYCLE_EMBEDDED_PG_PORT',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_CLI_PATH',
  'MLCYCLE_TEMPORAL_PORT',
  'MLCYCLE_TEMPORAL_UI_PORT',
  'MLCYCLE_TASK_QUEUE',
  'MLCYCLE_TRAIN_CONCURRENCY',
  'API_HOST',
  'API_PORT',
  'LOG_LEVEL',
  'MLCYCLE_API_KEY',
  'MLCYCLE_PREDICT_MAX_BATCH_ROWS',
  'MLCYCLE_PREDICT_MAX_WAIT_MS',
  'MLCYCLE_PREDICT_TIMEOUT_MS',
  'MLCYCLE_ONLINE_STORE',
] as const;

/** An integer variable within [min, max]; `what` completes the error message. */
function integer(env: Env, name: string, fallback: number, min: number, max: number, what: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} ${what} unset it to use ${fallback}.`);
  }
  return n;
}

const port = (env: Env, name: string, fallback: number) =>
  integer(env, name, fallback, 0, 65535, 'is not a TCP port; set it to an integer between 0 and 65535 or');
const positiveInt = (env: Env, name: string, fallback: number) =>
  integer(env, name, fallback, 1, Number.MAX_SAFE_INTEGER, 'must be a positive integer;');
const nonNegativeInt = (env: Env, name: string, fallback: number) =>
  integer(env, name, fallback, 0, Number.MAX_SAFE_INTEGER, 'must be an integer of 0 or more;');

function nonEmpty(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined) return fallback;
  if (raw.trim() === '') throw new ConfigError(`${name} is set but empty; give it a value or unset it to use "${fallback}".`);
  return raw.trim();
}

function databaseUrl(env: Env): string | undefined {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`DATABASE_URL is not a URL; use postgres://user:password@host:5432/db, or unset it to run the embedded Postgres.`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must start with postgres:// (got ${url.protocol}//); unset it to run the embedded Postgres.`);
  }
  return raw;
}

function temporalAddress(env: Env): string | undefined {
  const raw = env.TEMPORAL_ADDRESS;
  if (raw === undefined || raw === '') return undefined;
  if (!/^[^\s:/]+:\d{1,5}$/.test(raw)) {
    throw new ConfigError(`TEMPORAL_ADDRESS=${JSON.stringify(raw)} must be host:port (for example localhost:7233); unset it to start the embedded dev server.`);
  }
  return raw;
}

function onlineStore(env: Env): Config['onlineStore'] {
  const raw = env.MLCYCLE_ONLINE_STORE?.trim();
  if (raw === undefined || raw === '' || raw === 'postgres') return { backend: 'postgres' };
  const fix = 'set it to "postgres" or a Redis URL such as redis://127.0.0.1:6379/0 (rediss:// for TLS), or unset it to keep the online store in Postgres.';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`MLCYCLE_ONLINE_STORE is not a URL; ${fix}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`MLCYCLE_ONLINE_STORE must start with redis:// or rediss:// (got ${url.protocol}//); ${fix}`);
  }
  if (!/^\/?\d*$/.test(url.pathname)) {
    throw new ConfigError(`MLCYCLE_ONLINE_STORE=${JSON.stringify(redactPassword(raw))} names database ${JSON.stringify(url.pathname.slice(1))}; a Redis database is a number (redis://host:6379/0).`);
  }
  return { backend: 'redis', url: raw };
}

/** Reads and validates the environment. Throws ConfigError naming the variable and the fix. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const dataDir = path.resolve(cwd, nonEmpty(env, 'MLCYCLE_DATA_DIR', DEFAULTS.dataDir));
  const logLevel = nonEmpty(env, 'LOG_LEVEL', 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL=${JSON.stringify(logLevel)} is not one of ${LOG_LEVELS.join(', ')}.`);
  }
  return {
    dataDir,
    artifactDir: path.resolve(cwd, env.ARTIFACT_DIR || path.join(dataDir, 'artifacts')),
    databaseUrl: databaseUrl(env),
    embeddedPostgresPort: port(env, 'MLCYCLE_EMBEDDED_PG_PORT', DEFAULTS.embeddedPostgresPort),
    temporal: {
      address: temporalAddress(env),
      namespace: nonEmpty(env, 'TEMPORAL_NAMESPACE', DEFAULTS.namespace),
      cliPath: env.TEMPORAL_CLI_PATH || undefined,
      devServerPort: port(env, 'MLCYCLE_TEMPORAL_PORT', DEFAULTS.devServerPort),
      uiPort: port(env, 'MLCYCLE_TEMPORAL_UI_PORT', DEFAULTS.uiPort),
    },
    taskQueues: taskQueues(nonEmpty(env, 'MLCYCLE_TASK_QUEUE', DEFAULTS.orchestrationQueue)),
    trainConcurrency: positiveInt(env, 'MLCYCLE_TRAIN_CONCURRENCY', DEFAULTS.trainConcurrency),
    api: {
      host: nonEmpty(env, 'API_HOST', DEFAULTS.apiHost),
      port: port(env, 'API_PORT', DEFAULTS.apiPort),
    },
    serving: {
      maxBatchRows: positiveInt(env, 'MLCYCLE_PREDICT_MAX_BATCH_ROWS', DEFAULTS.predictMaxBatchRows),
      maxWaitMs: nonNegativeInt(env, 'MLCYCLE_PREDICT_MAX_WAIT_MS', DEFAULTS.predictMaxWaitMs),
      timeoutMs: positiveInt(env, 'MLCYCLE_PREDICT_TIMEOUT_MS', DEFAULTS.predictTimeoutMs),
    },
    onlineStore: onlineStore(env),
    apiKey: env.MLCYCLE_API_KEY?.trim() || undefined,
    logLevel: logLevel as Config['logLevel'],
  };
}
