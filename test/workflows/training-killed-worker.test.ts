// A training worker killed mid-trial: two processes poll the train queue (this test's worker and a spawned
// `workers/main.ts`); while the spawned one runs a trial it gets SIGKILL. Temporal notices the missing
// heartbeats, retries the trial on the surviving worker, and the run ends with the same best trial and the same
// model bytes as an undisturbed run of the same input.
//
// The heartbeat timeout is one minute by default (workflows/activity-options.ts longCpu); this test passes
// `heartbeatTimeout: '4s'` in the TrainingInput (not accepted by the HTTP API) so the retry comes within seconds.
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import type { TrainingInput } from '../../lib/training/types.js';
import { ingestionWorkflow, statusQuery, trainingWorkflow } from '../../workflows/index.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';
import { activityAttempts, spawnWorker, type SpawnedWorker } from '../setup/spawned-worker.js';

let stack: Stack;
let second: SpawnedWorker;
let secondIdentity: string;
let datasetVersionId: string;

beforeAll(async () => {
  stack = await startStack();
  const csv = path.join(stack.tmpDir, 'credit.csv');
  await writeFile(csv, creditCsv(40_000, 11));
  const ds = await stack.runtime.client.workflow.execute(ingestionWorkflow, {
    workflowId: `ingest-killed-${Date.now()}`,
    taskQueue: stack.config.taskQueues.orchestration,
    args: [{ name: `killed-${Date.now()}`, sourceUri: csv }],
  });
  datasetVersionId = ds.id;
  second = await spawnWorker(stack, { env: { MLCYCLE_TRAIN_CONCURRENCY: '1' } });
  secondIdentity = second.identity;
});
afterAll(async () => {
  await second?.kill('SIGTERM');
  await stack?.stop();
});

/** Two gbdt trials of a few seconds each, so each training worker (concurrency 1) takes one. */
function input(name: string): TrainingInput {
  return {
    modelName: name,
    datasetVersionId,
    target: DEMO_DATASET.target,
    features: [...DEMO_DATASET.features],
    params: { learner: 'gbdt', impute: 'none', scaling: 'none', gbdt: { numIterations: 400, maxLeaves: 31 } },
    split: { method: 'stratified', validationFraction: 0.25 },
    search: { strategy: 'grid', space: { 'gbdt.learningRate': { values: [0.05, 0.1] } }, metric: 'roc_auc' },
    heartbeatTimeout: '4s',
  };
}

async function modelSha(runId: string): Promise<string> {
  const { rows } = await stack.runtime.db.query<{ sha256: string }>('select sha256 from model_versions where training_run_id = $1', [runId]);
  return rows[0].sha256;
}

async function finish(handle: WorkflowHandle<typeof trainingWorkflow>) {
  const status = await waitFor(() => handle.query(statusQuery), (s) => s.stage === 'releasing', 90_000);
  await handle.terminate('test done');
  await stack.runtime.client.workflow.getHandle(status.releaseWorkflowId!).terminate('test done');
  return status;
}

/** Every started runTrial attempt: trial id, attempt, worker identity, why the previous attempt failed. */
async function trialAttempts(handle: WorkflowHandle<typeof trainingWorkflow>) {
  return (await activityAttempts(handle, 'runTrial')).map(({ input, ...a }) => ({ trialId: (input as { trialId: string }).trialId, ...a }));
}

describe('a training worker killed mid-trial', () => {
  it('retries the trial on the other worker and ends with the same best trial and model bytes', async () => {
    const stamp = Date.now();
    const client = stack.runtime.client.workflow;
    const start = (id: string, name: string) => client.start(trainingWorkflow, { workflowId: id, taskQueue: stack.config.taskQueues.orchestration, args: [input(name)] });

    // Undisturbed reference run.
    const refId = `train-ref-${stamp}`;
    const ref = await finish(await start(refId, `killed-ref-${stamp}`));
    const refSha = await modelSha(refId);

    // The same input; SIGKILL the spawned worker while it runs a trial.
    const runId = `train-killed-${stamp}`;
    const handle = await start(runId, `killed-run-${stamp}`);
    const victim = await waitFor(
      async () => ((await handle.describe()).raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'runTrial' && a.lastWorkerIdentity === secondIdentity && Number(a.state) === 2),
      (a) => a !== undefined,
      30_000,
    );
    expect(victim!.attempt).toBe(1);
    await second.kill('SIGKILL');
    const status = await finish(handle);

    expect({ params: status.bestTrial!.params, score: status.bestTrial!.score, metric: status.bestTrial!.metric }).toEqual({
      params: ref.bestTrial!.params,
      score: ref.bestTrial!.score,
      metric: ref.bestTrial!.metric,
    });
    expect(status.metrics).toEqual(ref.metrics);
    expect(await modelSha(runId)).toBe(refSha);

    const attempts = await trialAttempts(handle);
    const retried = attempts.filter((a) => a.attempt > 1);
    expect(retried).toHaveLength(1);
    expect(retried[0].identity).not.toBe(secondIdentity);
    expect(retried[0].identity).toBe(`${process.pid}@${os.hostname()}`);
    expect(retried[0].lastFailure).toMatch(/heartbeat/i);
    // Both trials finished (each recorded once as a trial run), one of them on its second attempt.
    expect(new Set(attempts.map((a) => a.trialId)).size).toBe(2);
    expect(status.trialsDone).toBe(2);
  }, 60_000);
});
