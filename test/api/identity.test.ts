// Identities come from API keys: the run's starter is the caller's key, so nobody approves their own run
// by claiming another name when they start it.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';

let stack: Stack;
let datasetVersionId: string;

beforeAll(async () => {
  stack = await startStack();
  const csv = path.join(stack.tmpDir, 'credit.csv');
  await writeFile(csv, creditCsv(300, 21));
  const ds = await stack.api('POST', '/v1/datasets', { name: `identity-${Date.now()}`, uri: csv });
  datasetVersionId = ds.body.id;
});
afterAll(async () => stack?.stop());

describe('identity from API keys', () => {
  it('refuses a trainer key that names someone else as the starter', async () => {
    const dana = await stack.createKey(['trainer'], 'dana');
    const res = await stack.api(
      'POST',
      '/v1/training-runs',
      { modelName: `id-${Date.now()}`, datasetVersionId, target: DEMO_DATASET.target, features: [...DEMO_DATASET.features], startedBy: 'erin' },
      { key: dana },
    );
    expect(res.status).toBe(403);
    expect(res.body.error).toContain('acts as dana');
  });

  it('records the key as the starter, who then may not approve the run', async () => {
    const frank = await stack.createKey(['trainer', 'approver'], 'frank');
    const modelName = `id-self-${Date.now()}`;
    const started = await stack.api(
      'POST',
      '/v1/training-runs',
      { modelName, datasetVersionId, target: DEMO_DATASET.target, features: [...DEMO_DATASET.features] },
      { key: frank },
    );
    expect(started.status).toBe(202);
    await waitFor(() => stack.api('GET', `/v1/training-runs/${started.body.id}`), (r) => r.body.release?.stage === 'awaiting_approval' || r.body.workflowStatus !== 'RUNNING');
    const self = await stack.api('POST', `/v1/approvals/${started.body.id}`, { decision: 'approve', reason: 'mine' }, { key: frank });
    expect(self.status).toBe(403);
    expect(self.body.error).toContain('started this training run');
    const grace = await stack.createKey(['approver'], 'grace');
    const other = await stack.api('POST', `/v1/approvals/${started.body.id}`, { decision: 'approve', reason: 'reviewed' }, { key: grace });
    expect(other.status).toBe(200);
    expect(other.body.approver).toBe('grace');
  });
});

describe("the model's approver list", () => {
  it('is set by admins only and decides who may approve, whatever the run asks for', async () => {
    const modelName = `id-list-${Date.now()}`;
    const trainer = await stack.keyFor('tess', ['trainer']);
    const denied = await stack.api('PUT', `/v1/models/${modelName}/approval-policy`, { policy: { approvers: ['tess'] } }, { key: trainer });
    expect(denied.status).toBe(403);
    const set = await stack.api('PUT', `/v1/models/${modelName}/approval-policy`, { policy: { approvers: ['carol'] } });
    expect(set.status).toBe(200);
    expect((await stack.api('GET', `/v1/models/${modelName}/approval-policy`)).body.policy).toEqual({ approvers: ['carol'] });

    const started = await stack.api(
      'POST',
      '/v1/training-runs',
      { modelName, datasetVersionId, target: DEMO_DATASET.target, features: [...DEMO_DATASET.features], approval: { approvers: ['bob'] } },
      { key: trainer },
    );
    expect(started.status).toBe(202);
    await waitFor(() => stack.api('GET', `/v1/training-runs/${started.body.id}`), (r) => r.body.release?.stage === 'awaiting_approval' || r.body.workflowStatus !== 'RUNNING');
    const bob = await stack.api('POST', `/v1/approvals/${started.body.id}`, { decision: 'approve', reason: 'run said so' }, { key: await stack.keyFor('bob', ['approver']) });
    expect(bob.status).toBe(403);
    expect(bob.body.error).toContain('not an approver');
    const carol = await stack.api('POST', `/v1/approvals/${started.body.id}`, { decision: 'approve', reason: 'on the list' }, { key: await stack.keyFor('carol', ['approver']) });
    expect(carol.status).toBe(200);
  });
});
