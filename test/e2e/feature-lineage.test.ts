// Feature views -> training frame -> training run -> model version, through the API: the version's
// registry lineage and its tracked run both name the views (registry version, declaration sha256) and
// the source dataset version the frame read (test/e2e/lifecycle.test.ts checks a plain dataset names none).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestDataset } from '../../lib/data/datasets.js';
import { datasetSource, entity, featureView } from '../../lib/features/declaration.js';
import { featureViewSha256 } from '../../lib/features/registry.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';

let stack: Stack;
const tag = Date.now().toString(36);
const modelName = `frame-model-${tag}`;
const HOUR = 3_600_000;
const B = Math.floor(Date.now() / 60_000) * 60_000 - 24 * HOUR;

// 120 users with a spend that separates the two label classes, each seen twice before the label time.
function sourceQuery(): string {
  const rows: string[] = [];
  for (let u = 0; u < 120; u++) {
    const spend = (u % 2 === 0 ? 20 : 80) + (u % 7);
    for (const back of [10, 3]) rows.push(`('u${u}', '${new Date(B - back * HOUR).toISOString()}'::timestamptz, ${spend + back}::float8)`);
  }
  return `select * from (values ${rows.join(', ')}) as t(user_id, event_time, spend) order by event_time, user_id`;
}

function labelQuery(): string {
  const rows = Array.from({ length: 120 }, (_, u) => `('u${u}', '${new Date(B).toISOString()}'::timestamptz, '${u % 2 === 0 ? 'no' : 'yes'}')`);
  return `select * from (values ${rows.join(', ')}) as t(user_id, ts, churned)`;
}

const view = featureView({
  name: `user_spend_${tag}`,
  description: 'Spend per user',
  owner: 'risk-team',
  tags: {},
  entity: entity({ name: 'user', joinKey: 'user_id' }),
  source: datasetSource({ dataset: `spend-${tag}`, eventTime: 'event_time' }),
  features: [
    { kind: 'value', name: 'spend', column: 'spend' },
    { kind: 'aggregate', name: 'spend_mean_1d', fn: 'mean', column: 'spend', windowSeconds: 86_400 },
  ],
  ttlSeconds: 7 * 86_400,
});

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.stop());

describe('feature view lineage', () => {
  let sourceVersionId: string;
  let frameId: string;

  it('builds a frame from a registered view and trains a version on it', async () => {
    const deps = { db: stack.runtime.db, artifacts: stack.runtime.artifacts };
    sourceVersionId = (await ingestDataset(deps, { name: `spend-${tag}`, sourceUri: 'postgres:default', query: sourceQuery() })).id;
    const labels = await ingestDataset(deps, { name: `churn-labels-${tag}`, sourceUri: 'postgres:default', query: labelQuery() });
    expect((await stack.api('POST', '/v1/feature-views', view)).status).toBe(201);
    const frame = await stack.api('POST', '/v1/feature-views/training-frames', {
      labelsVersionId: labels.id,
      timestampColumn: 'ts',
      views: [view.name],
      outputName: `churn-frame-${tag}`,
    });
    expect(frame.status).toBe(201);
    frameId = frame.body.datasetVersionId;

    const run = await stack.api('POST', '/v1/training-runs', { modelName, datasetVersionId: frameId, target: 'churned', features: ['spend', 'spend_mean_1d'] });
    expect(run.status).toBe(202);
    await waitFor(
      () => stack.api('GET', `/v1/models/${modelName}/versions/1`),
      (res) => res.status === 200,
      90_000,
    );
  });

  it('names the views and their source version in the registry lineage and in the tracked run', async () => {
    const expected = { name: view.name, version: 1, sha256: featureViewSha256(view), sourceDatasetVersionId: sourceVersionId };
    const lineage = await stack.api('GET', `/v1/models/${modelName}/versions/1`);
    expect(lineage.body.dataset.id).toBe(frameId);
    expect(lineage.body.featureViews).toEqual([expected]);
    const run = await stack.api('GET', `/v1/experiments/${modelName}/runs/${lineage.body.trainingRun.id}`);
    expect(run.status).toBe(200);
    expect(run.body.lineage.featureViews).toEqual([expected]);
  });

});
