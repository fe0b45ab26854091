// The project's own workers: the orchestration queue and the CPU-heavy train queue, built from the plugins.
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { ActivityDeps } from '../activities/deps.js';
import type { Runtime } from './runtime.js';
import { mlcyclePlugin, trainingComputePlugin } from './plugins.js';

export interface WorkerConfig {
  connection: NativeConnection;
  namespace: string;
  taskQueues: { orchestration: string; train: string };
  trainConcurrency: number;
  deps: ActivityDeps;
}

export interface Workers {
  orchestration: Worker;
  train: Worker;
  /** Resolves when both workers have stopped; rejects if either fails. */
  run(): Promise<void>;
  shutdown(): void;
}

/** The worker configuration every mlcycle process derives from its runtime (config, database, artifacts, online store). */
export function workerConfig(runtime: Pick<Runtime, 'config' | 'db' | 'artifacts' | 'onlineStore'>, connection: NativeConnection): WorkerConfig {
  return {
    connection,
    namespace: runtime.config.temporal.namespace,
    taskQueues: runtime.config.taskQueues,
    trainConcurrency: runtime.config.trainConcurrency,
    deps: { db: runtime.db, artifacts: runtime.artifacts, onlineStore: runtime.onlineStore },
  };
}

export async function createWorkers(config: WorkerConfig): Promise<Workers> {
  const orchestration = await Worker.create({
    connection: config.connection,
    namespace: config.namespace,
    taskQueue: config.taskQueues.orchestration,
    plugins: [mlcyclePlugin(config.deps)],
  });
  const train = await Worker.create({
    connection: config.connection,
    namespace: config.namespace,
    taskQueue: config.taskQueues.train,
    plugins: [trainingComputePlugin(config.deps)],
    maxConcurrentActivityTaskExecutions: config.trainConcurrency,
    // A training activity hears of its cancellation only in a heartbeat's answer; without a cap the SDK
    // throttles heartbeats to 0.8 x the heartbeat timeout, and a cancelled fit would burn a core for ~48 s.
    maxHeartbeatThrottleInterval: '5s',
  });
  return {
    orchestration,
    train,
    async run() {
      await Promise.all([orchestration.run(), train.run()]);
    },
    shutdown() {
      for (const w of [orchestration, train]) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}
