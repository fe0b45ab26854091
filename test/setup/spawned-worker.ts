// A worker in its own process (`workers/main.ts`) on the suite's Temporal and Postgres, for tests that kill one
// with SIGKILL midway through an activity: nothing in the process gets a chance to clean up, as on a real crash.
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { inject } from 'vitest';
import type { Stack } from './harness.js';

export interface SpawnedWorker {
  process: ChildProcess;
  /** The identity Temporal records for its polls and activity attempts (`pid@host`, the SDK's default). */
  identity: string;
  /** Sends `signal` (default SIGKILL) and waits until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `workers/main.ts` on `taskQueue` (default the stack's orchestration queue; its train queue is derived
 * from it) with the stack's artifact directory, and resolves once it polls.
 */
export async function spawnWorker(stack: Stack, options: { taskQueue?: string; env?: Record<string, string> } = {}): Promise<SpawnedWorker> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      MLCYCLE_TASK_QUEUE: options.taskQueue ?? stack.config.taskQueues.orchestration,
      MLCYCLE_DATA_DIR: stack.tmpDir,
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Workers polling')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`spawned worker exited (${code ?? signal}): ${output}`)));
  });
  return {
    process: child,
    identity: `${child.pid}@${os.hostname()}`,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}

export interface ActivityAttempt {
  /** The activity's first argument, decoded from the scheduling event. */
  input: unknown;
  attempt: number;
  /** The worker identity that started this attempt. */
  identity: string;
  /** Why the previous attempt failed (e.g. a heartbeat timeout), for attempts after the first. */
  lastFailure?: string;
}

/** Every started attempt of activities of type `activityType` in a workflow's history, in order. */
export async function activityAttempts(handle: { fetchHistory(): Promise<{ events?: Array<any> | null }> }, activityType: string): Promise<ActivityAttempt[]> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, unknown>();
  const attempts: ActivityAttempt[] = [];
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name === activityType) scheduled.set(String(e.eventId), JSON.parse(Buffer.from(s.input!.payloads![0].data!).toString()));
    const started = e.activityTaskStartedEventAttributes;
    if (started && scheduled.has(String(started.scheduledEventId))) {
      attempts.push({ input: scheduled.get(String(started.scheduledEventId)), attempt: started.attempt ?? 1, identity: started.identity ?? '', lastFailure: started.lastFailure?.message ?? undefined });
    }
  }
  return attempts;
}
