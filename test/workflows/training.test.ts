// The training workflow's decision handling against the real dev server: validator, reject path, status query.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import { approveUpdate, ingestionWorkflow, rejectUpdate, releaseStatusQuery, statusQuery, trainingWorkflow } from '../../workflows/index.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';
import { saveHistory } from '../setup/histories.js';

let stack: Stack;
let datasetVersionId: string;

beforeAll(async () => {
  stack = await startStack();
  const csv = path.join(stack.tmpDir, 'credit.csv');
  await writeFile(csv, creditCsv(300, 5));
  const ds = await stack.runtime.client.workflow.execute(ingestionWorkflow, {
    workflowId: `ingest-wf-test-${Date.now()}`,
    taskQueue: stack.config.taskQueues.orchestration,
    args: [{ name: `wf-test-${Date.now()}`, sourceUri: csv }],
  });
  datasetVersionId = ds.id;
});
afterAll(async () => stack?.stop());

function startTraining(modelName: string) {
  return stack.runtime.client.workflow.start(trainingWorkflow, {
    workflowId: `train-${modelName}`,
    taskQueue: stack.config.taskQueues.orchestration,
    args: [{ modelName, datasetVersionId, target: DEMO_DATASET.target, features: [...DEMO_DATASET.features], startedBy: 'alice' }],
  });
}

describe('trainingWorkflow', () => {
  it('refuses decisions before approval is requested and malformed ones while waiting, then records a rejection', async () => {
    const modelName = `reject-${Date.now()}`;
    const training = await startTraining(modelName);
    const { releaseWorkflowId } = await waitFor(() => training.query(statusQuery), (s) => s.stage === 'releasing');
    const handle = stack.runtime.client.workflow.getHandle(releaseWorkflowId!);
    await waitFor(() => handle.query(releaseStatusQuery), (s) => s.stage === 'awaiting_approval');

    const invalid = await handle.executeUpdate(approveUpdate, { args: [{ approver: '', reason: 'x' }] }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((invalid as WorkflowUpdateFailedError).cause?.message)).toContain('approver');
    expect((await handle.query(releaseStatusQuery)).stage).toBe('awaiting_approval');

    const record = await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'bob', reason: 'AUC too low' }] });
    expect(record).toMatchObject({ approved: false, approver: 'bob', reason: 'AUC too low' });
    const result = await training.result();
    expect(result.release.approved).toBe(false);
    expect((await training.query(statusQuery)).stage).toBe('rejected');
    expect((await handle.query(releaseStatusQuery)).stage).toBe('rejected');

    const alias = await stack.runtime.db.query('select 1 from model_aliases where model_name = $1', [modelName]);
    expect(alias.rowCount).toBe(0);
    const run = await stack.runtime.db.query('select status from training_runs where id = $1', [training.workflowId]);
    expect(run.rows[0].status).toBe('rejected');
    await saveHistory('training-rejected', training.workflowId, await training.fetchHistory());
    await saveHistory('release-rejected', handle.workflowId, await handle.fetchHistory());
  });

  it('fails with the reason when the target does not fit the learner, and registers nothing', async () => {
    const modelName = `bad-${Date.now()}`;
    const handle = await stack.runtime.client.workflow.start(trainingWorkflow, {
      workflowId: `train-bad-${Date.now()}`,
      taskQueue: stack.config.taskQueues.orchestration,
      args: [{ modelName, datasetVersionId, target: DEMO_DATASET.target, params: { learner: 'ridge' } }],
    });
    const err = await handle.result().catch((e: Error) => e);
    expect(String(((err as Error).cause as Error | undefined)?.cause instanceof Error ? (((err as Error).cause as Error).cause as Error).message : '')).toContain('regression needs a numeric target');
    const versions = await stack.runtime.db.query('select 1 from model_versions where model_name = $1', [modelName]);
    expect(versions.rowCount).toBe(0);
  });

  it('is deterministic: the same dataset, params and seed give the same model bytes', async () => {
    const a = await startTraining(`det-a-${Date.now()}`);
    const b = await startTraining(`det-b-${Date.now()}`);
    for (const h of [a, b]) await waitFor(() => h.query(statusQuery), (s) => s.stage === 'releasing');
    const { rows } = await stack.runtime.db.query('select model_sha256 from training_runs where id = any($1)', [[a.workflowId, b.workflowId]]);
    expect(rows).toHaveLength(2);
    expect(rows[0].model_sha256).toBe(rows[1].model_sha256);
    for (const h of [a, b]) {
      const { releaseWorkflowId } = await h.query(statusQuery);
      await h.terminate('test done');
      await stack.runtime.client.workflow.getHandle(releaseWorkflowId!).terminate('test done');
    }
  });
});
