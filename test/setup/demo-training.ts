// Trains a demo credit model version through the API (CSV -> dataset -> training run started by alice) and
// waits until its release asks for approval; tests of serving and rollouts start from there.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import { waitFor, type Stack } from './harness.js';

/** Returns the training run id; each seed gives a different sample, so versions differ. */
export async function trainUntilApproval(stack: Stack, modelName: string, seed: number): Promise<string> {
  const csv = path.join(stack.tmpDir, `credit-${seed}.csv`);
  await writeFile(csv, creditCsv(300, seed));
  const ds = await stack.api('POST', '/v1/datasets', { name: `${modelName}-${seed}`, uri: csv });
  const run = await stack.api('POST', '/v1/training-runs', { modelName, datasetVersionId: ds.body.id, target: DEMO_DATASET.target, features: [...DEMO_DATASET.features], startedBy: 'alice' });
  await waitFor(() => stack.api('GET', `/v1/training-runs/${run.body.id}`), (r) => r.body.release?.stage === 'awaiting_approval');
  return run.body.id;
}
