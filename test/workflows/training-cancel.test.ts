// Cancelling a training run while it fits, against the real dev server: the workflow is cancelled through the
// Temporal client, the cancellation reaches the trainModel activity (on its next heartbeat), the activity's
// signal terminates the fitting thread, the CPU it burned stops, the tracked run says `cancelled`, and nothing
// reaches the registry or the release stage.
//
// The activity learns of a cancellation from a heartbeat response, and the SDK sends heartbeats at most every
// 0.8 x heartbeatTimeout; this test passes `heartbeatTimeout: '4s'` so the cancellation arrives within seconds.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CancelledFailure, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import { getRun } from '../../lib/training/experiments.js';
import { liveFitThreads } from '../../lib/training/thread.js';
import type { TrainProgress } from '../../lib/training/train.js';
import { ingestionWorkflow, releaseWorkflowId, trainingWorkflow } from '../../workflows/index.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';

let stack: Stack;
let datasetVersionId: string;

beforeAll(async () => {
  stack = await startStack();
  const csv = path.join(stack.tmpDir, 'credit.csv');
  await writeFile(csv, creditCsv(20_000, 7));
  const ds = await stack.runtime.client.workflow.execute(ingestionWorkflow, {
    workflowId: `ingest-cancel-${Date.now()}`,
    taskQueue: stack.config.taskQueues.orchestration,
    args: [{ name: `cancel-${Date.now()}`, sourceUri: csv }],
  });
  datasetVersionId = ds.id;
});
afterAll(async () => stack?.stop());

/** CPU seconds this process (every thread, the fitting one included) uses over `ms` of wall time. */
async function cpuSecondsOver(ms: number): Promise<number> {
  const start = process.cpuUsage();
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

const trackedStatus = async (runId: string) => (await getRun(stack.runtime.db, runId)).status;

describe('cancelling a training run mid-fit', () => {
  it('stops the fitting thread, records the run as cancelled and registers nothing', async () => {
    const modelName = `cancel-${Date.now()}`;
    const runId = `train-${modelName}`;
    const handle = await stack.runtime.client.workflow.start(trainingWorkflow, {
      workflowId: runId,
      taskQueue: stack.config.taskQueues.orchestration,
      // Far more rounds than the test waits for: minutes of fitting on this machine.
      args: [
        {
          modelName,
          datasetVersionId,
          target: DEMO_DATASET.target,
          features: [...DEMO_DATASET.features],
          params: { learner: 'gbdt', impute: 'none', scaling: 'none', gbdt: { numIterations: 100_000, maxLeaves: 63, minDataInLeaf: 5 } },
          heartbeatTimeout: '4s',
        },
      ],
    });

    // Fitting, as the activity's heartbeats show, and a few rounds in.
    const progress = await waitFor(
      async () => {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        const details = pending.find((a) => a.activityType?.name === 'trainModel')?.heartbeatDetails?.payloads?.[0]?.data;
        return details ? (JSON.parse(Buffer.from(details).toString()) as TrainProgress) : undefined;
      },
      (p) => p?.phase === 'fitting' && (p.iteration ?? 0) >= 3,
      60_000,
    );
    expect(progress!.loss).toBeGreaterThan(0);
    expect(liveFitThreads()).toBe(1);
    expect(await trackedStatus(runId)).toBe('running');
    const busy = await cpuSecondsOver(1500);

    const cancelledAt = Date.now();
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);

    // The activity hears of it on its next heartbeat (at most 0.8 x 4 s later) and terminates the thread.
    await waitFor(async () => liveFitThreads(), (n) => n === 0, 20_000);
    const stoppedAfterMs = Date.now() - cancelledAt;
    expect(stoppedAfterMs).toBeLessThan(20_000);
    await waitFor(() => trackedStatus(runId), (s) => s === 'cancelled', 10_000);

    // A fit still running would keep burning about as much CPU as before the cancel.
    const idle = await cpuSecondsOver(1500);
    expect(busy).toBeGreaterThan(0.3);
    expect(idle).toBeLessThan(busy / 3);

    const history = await handle.fetchHistory();
    const types = (history.events ?? []).map((e) => Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]));
    expect(types).toContain('activityTaskCancelRequestedEventAttributes');
    expect(types.at(-1)).toBe('workflowExecutionCanceledEventAttributes');

    const db = stack.runtime.db;
    expect((await db.query('select 1 from model_versions where training_run_id = $1', [runId])).rowCount).toBe(0);
    expect((await db.query('select 1 from model_versions where model_name = $1', [modelName])).rowCount).toBe(0);
    expect((await db.query('select 1 from training_runs where id = $1', [runId])).rowCount).toBe(0);
    const release = await stack.runtime.client.workflow.getHandle(releaseWorkflowId(modelName, 1)).describe().catch((e: unknown) => e);
    expect(release).toBeInstanceOf(WorkflowNotFoundError);
  }, 120_000);
});
