// A training worker killed mid-trial: two processes poll the train queue (this test's worker and a spawned
// `workers/main.ts`); while the spawned one runs a trial it gets SIGKILL. Temporal notices the missing
// heartbeats, retries the trial on the surviving worker, and the run ends with the same best trial and the same
// model bytes as an undisturbed run of the same input.
//
// The heartbeat timeout is one minute by default (workflows/activity-options.ts longCpu); this test passes
// `heartbeatTimeout: '4s'` in the TrainingInput (not accepted by the HTTP API) so the retry comes within seconds.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import type { TrainingInput } from '../../lib/training/types.js';
import { ingestionWorkflow, statusQuery, trainingWorkflow } from '../../workflows/index.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';

let stack: Stack;
let second: ChildProcess;
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
  second = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      MLCYCLE_TASK_QUEUE: stack.config.taskQueues.orchestration,
      MLCYCLE_DATA_DIR: stack.tmpDir,
      MLCYCLE_TRAIN_CONCURRENCY: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  secondIdentity = `${second.pid}@${os.hostname()}`;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Workers polling')) resolve();
    };
    second.stdout!.on('data', onData);
    second.stderr!.on('data', onData);
    second.once('exit', (code, signal) => reject(new Error(`second worker exited (${code ?? signal}): ${output}`)));
  });
});
afterAll(async () => {
  if (second && second.exitCode === null && second.signalCode === null) {
    const exited = new Promise((r) => second.once('exit', r));
    second.kill('SIGTERM');
    await exited;
  }
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

/** Every started runTrial attempt in the history: trial id, attempt, worker identity, why the previous attempt failed. */
async function trialAttempts(handle: WorkflowHandle<typeof trainingWorkflow>) {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, string>();
  const attempts: Array<{ trialId: string; attempt: number; identity: string; lastFailure?: string }> = [];
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name === 'runTrial') {
      const req = JSON.parse(Buffer.from(s.input!.payloads![0].data!).toString()) as { trialId: string };
      scheduled.set(String(e.eventId), req.trialId);
    }
    const started = e.activityTaskStartedEventAttributes;
    const trialId = started && scheduled.get(String(started.scheduledEventId));
    if (started && trialId) {
      attempts.push({ trialId, attempt: started.attempt ?? 1, identity: started.identity ?? '', lastFailure: started.lastFailure?.message ?? undefined });
    }
  }
  return attempts;
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
    const exited = new Promise((r) => second.once('exit', r));
    second.kill('SIGKILL');
    await exited;
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
