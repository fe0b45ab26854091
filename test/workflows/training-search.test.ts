// Hyperparameter search against the real dev server: trials fan out across two training workers, every trial
// and the final run are tracked as an experiment, and the API lists, compares and shows them with curves.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import { ingestionWorkflow, statusQuery, trainingWorkflow } from '../../workflows/index.js';
import type { TrainingInput } from '../../lib/training/types.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';

let stack: Stack;
let second: ChildProcess;
let datasetVersionId: string;
/** The Temporal SDK's default worker identity is pid@hostname. */
let secondIdentity: string;

beforeAll(async () => {
  stack = await startStack();
  const csv = path.join(stack.tmpDir, 'credit.csv');
  await writeFile(csv, creditCsv(300, 9));
  const ds = await stack.runtime.client.workflow.execute(ingestionWorkflow, {
    workflowId: `ingest-search-${Date.now()}`,
    taskQueue: stack.config.taskQueues.orchestration,
    args: [{ name: `search-${Date.now()}`, sourceUri: csv }],
  });
  datasetVersionId = ds.id;
  // A second worker process (`npm run worker`) on the same task queues, database and artifact store.
  second = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      MLCYCLE_TASK_QUEUE: stack.config.taskQueues.orchestration,
      MLCYCLE_DATA_DIR: stack.tmpDir,
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
    second.once('exit', (code) => reject(new Error(`second worker exited (${code}): ${output}`)));
  });
});
afterAll(async () => {
  if (second && second.exitCode === null) {
    const exited = new Promise((r) => second.once('exit', r));
    second.kill('SIGTERM');
    await exited;
  }
  await stack?.stop();
});

async function runUntilReleasing(id: string, input: TrainingInput) {
  const handle = await stack.runtime.client.workflow.start(trainingWorkflow, { workflowId: id, taskQueue: stack.config.taskQueues.orchestration, args: [input] });
  const status = await waitFor(() => handle.query(statusQuery), (s) => s.stage === 'releasing', 120_000);
  return { handle, status };
}

/** Identity of the worker that started each runTrial activity, from the workflow history. */
async function trialWorkers(handle: Awaited<ReturnType<typeof runUntilReleasing>>['handle']): Promise<string[]> {
  const history = await handle.fetchHistory();
  const trialScheduled = new Set<string>();
  const identities: string[] = [];
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'runTrial') trialScheduled.add(String(e.eventId));
    const started = e.activityTaskStartedEventAttributes;
    if (started && trialScheduled.has(String(started.scheduledEventId))) identities.push(started.identity ?? '');
  }
  return identities;
}

describe('hyperparameter search', () => {
  const experiment = `credit-search-${Date.now()}`;
  let runId: string;

  it('fans grid trials out across both training workers and trains the best configuration', async () => {
    runId = `train-search-${Date.now()}`;
    const { handle, status } = await runUntilReleasing(runId, {
      modelName: `search-${Date.now()}`,
      datasetVersionId,
      target: DEMO_DATASET.target,
      features: [...DEMO_DATASET.features],
      split: { method: 'stratified', validationFraction: 0.3 },
      search: { strategy: 'grid', space: { C: { values: [0.001, 0.01, 0.1, 1, 10, 100] } }, metric: 'roc_auc' },
      experiment,
      tags: { purpose: 'test' },
      startedBy: 'alice',
    });
    expect(status.trialsDone).toBe(6);
    expect(status.bestTrial).toMatchObject({ metric: 'roc_auc', rung: 0 });
    const workers = await trialWorkers(handle);
    expect(workers).toHaveLength(6);
    expect(new Set(workers).size).toBe(2);
    expect(workers).toContain(secondIdentity);

    const { rows } = await stack.runtime.db.query<{ id: string; kind: string; metrics: Record<string, number>; params: Record<string, unknown> }>(
      'select id, kind, metrics, params from experiment_runs where experiment = $1 order by id',
      [experiment],
    );
    const trials = rows.filter((r) => r.kind === 'trial');
    expect(trials).toHaveLength(6);
    const best = trials.reduce((a, b) => (b.metrics.search_roc_auc > a.metrics.search_roc_auc ? b : a));
    expect(status.bestTrial!.score).toBeCloseTo(best.metrics.search_roc_auc, 12);
    const training = rows.find((r) => r.kind === 'training')!;
    expect(training.id).toBe(runId);
    expect(training.params.C).toBe(status.bestTrial!.params.C);
    await handle.terminate('test done');
    await stack.runtime.client.workflow.getHandle(status.releaseWorkflowId!).terminate('test done');
  });

  it('lists, compares and shows the runs of the experiment with curves and lineage through the API', async () => {
    const list = await stack.api('GET', '/v1/experiments');
    expect(list.body.experiments).toContainEqual(expect.objectContaining({ name: experiment, runs: 7 }));
    const trials = await stack.api('GET', `/v1/experiments/${experiment}/runs?kind=trial`);
    expect(trials.status).toBe(200);
    expect(trials.body.runs).toHaveLength(6);
    expect(trials.body.runs[0]).toMatchObject({ kind: 'trial', parentRunId: runId, tags: { purpose: 'test' } });
    const compare = await stack.api('GET', `/v1/experiments/${experiment}/compare`);
    expect(compare.body.differingParams).toContain('C');
    expect(compare.body.best.roc_auc).toBeDefined();
    const run = await stack.api('GET', `/v1/experiments/${experiment}/runs/${runId}`);
    expect(run.status).toBe(200);
    expect(run.body.curves.train_loss.length).toBeGreaterThan(1);
    expect(run.body.lineage).toMatchObject({ datasetVersionId, seed: 42, code: { version: '0.1.0' }, machine: { node: process.version } });
    expect(run.body.lineage.packages['onnxruntime-node']).toMatch(/^\d+\./);
    expect(run.body.artifacts.model).toMatch(/^artifact:\/\/sha256\//);
    expect((await stack.api('GET', `/v1/experiments/${experiment}/runs/nope`)).status).toBe(404);
    expect((await stack.api('GET', '/v1/experiments/nope/runs')).status).toBe(404);
  });

  it('runs successive halving rungs with growing budgets for a ridge regression with k-fold CV', async () => {
    const id = `train-halving-${Date.now()}`;
    const { handle, status } = await runUntilReleasing(id, {
      modelName: `halving-${Date.now()}`,
      datasetVersionId,
      target: 'income',
      features: ['debt_ratio', 'age', 'late_payments', 'utilization', 'defaulted'],
      params: { learner: 'ridge' },
      search: { strategy: 'halving', space: { alpha: { min: 0.01, max: 100, log: true } }, trials: 4, eta: 2, cvFolds: 3 },
    });
    expect(status.trialsTotal).toBe(7);
    expect(status.trialsDone).toBe(7);
    expect(status.bestTrial).toMatchObject({ metric: 'rmse', rung: 2 });
    const { rows } = await stack.runtime.db.query<{ params: { rung: number; maxIterations: number } }>('select params from experiment_runs where parent_run_id = $1', [id]);
    const budgets = [0, 1, 2].map((r) => [...new Set(rows.filter((x) => x.params.rung === r).map((x) => x.params.maxIterations))]);
    expect(budgets).toEqual([[25], [50], [100]]);
    expect(status.metrics).toHaveProperty('rmse');
    await handle.terminate('test done');
    await stack.runtime.client.workflow.getHandle(status.releaseWorkflowId!).terminate('test done');
  });

  it('fails a search that names an unknown hyperparameter, naming it', async () => {
    const res = await stack.api('POST', '/v1/training-runs', {
      modelName: 'x',
      datasetVersionId,
      target: DEMO_DATASET.target,
      search: { strategy: 'grid', space: { Cee: { values: [1] } } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('search.space.Cee');
  });
});
