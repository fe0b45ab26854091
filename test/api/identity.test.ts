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
