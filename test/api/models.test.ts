// The registry API: models, versions with lineage, comparison, user-defined aliases, rollback, archive,
// and "which version served production at time T, who put it there and why".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCandidate } from '../lib/release/fixtures.js';
import { startStack, type Stack } from '../setup/harness.js';

let stack: Stack;
const model = `registry-${Date.now()}`;

beforeAll(async () => {
  stack = await startStack();
  const deps = { db: stack.runtime.db, artifacts: stack.runtime.artifacts };
  await registerCandidate(deps, model, [1, 0.5]);
  await registerCandidate(deps, model, [1, 0.4]);
  await registerCandidate(deps, model, [-1, -0.5]);
});
afterAll(async () => stack?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('registry API', () => {
  it('lists models and versions, and gives a version with its lineage', async () => {
    const models = await stack.api('GET', '/v1/models');
    expect(models.status).toBe(200);
    expect(models.body.models.find((m: { name: string }) => m.name === model)).toMatchObject({ versions: 3, latestVersion: 3, aliases: {}, gatesDeclared: false });
    const versions = await stack.api('GET', `/v1/models/${model}/versions`);
    expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    const v1 = await stack.api('GET', `/v1/models/${model}/versions/1`);
    expect(v1.status).toBe(200);
    expect(v1.body.version).toMatchObject({ version: 1, archivedAt: null, createdBy: 'alice' });
    expect(v1.body.dataset).toMatchObject({ id: v1.body.version.datasetVersionId, rowCount: 400 });
    expect(v1.body.trainingRun).toMatchObject({ id: v1.body.version.trainingRunId, startedBy: 'alice' });
    expect(v1.body.evaluation).toBeNull();
    expect((await stack.api('GET', `/v1/models/${model}/versions/9`)).status).toBe(404);
    expect((await stack.api('GET', '/v1/models/nope/versions')).status).toBe(404);
    expect((await stack.api('GET', `/v1/models/${model}/versions/1/report`)).status).toBe(404);
  });

  it('compares two versions metric by metric', async () => {
    const res = await stack.api('GET', `/v1/models/${model}/compare?a=1&b=2`);
    expect(res.status).toBe(200);
    expect(res.body.training).toEqual([{ metric: 'accuracy', a: 0.8, b: 0.8, diff: 0 }]);
    expect(res.body.sameEvaluationSet).toBe(true);
    expect((await stack.api('GET', `/v1/models/${model}/compare?a=1`)).status).toBe(400);
  });

  let beforeV2: string;
  it('sets user-defined aliases, refuses bad names and unknown versions', async () => {
    const first = await stack.api('PUT', `/v1/models/${model}/aliases/production`, { version: 1, reason: 'first release' });
    expect(first.body).toMatchObject({ alias: 'production', version: 1, previousVersion: null, changed: true });
    await sleep(20);
    beforeV2 = new Date().toISOString();
    await sleep(20);
    const second = await stack.api('PUT', `/v1/models/${model}/aliases/production`, { version: 2, reason: 'better recall' });
    expect(second.body).toMatchObject({ previousVersion: 1, changed: true });
    const challenger = await stack.api('PUT', `/v1/models/${model}/aliases/challenger-eu`, { version: 3, reason: 'try in EU' });
    expect(challenger.status).toBe(200);
    expect((await stack.api('PUT', `/v1/models/${model}/aliases/Bad Name`, { version: 1, reason: 'x' })).status).toBe(400);
    expect((await stack.api('PUT', `/v1/models/${model}/aliases/x`, { version: 1 })).status).toBe(400);
    expect((await stack.api('PUT', `/v1/models/${model}/aliases/x`, { version: 42, reason: 'x' })).status).toBe(404);
    const models = await stack.api('GET', '/v1/models');
    expect(models.body.models.find((m: { name: string }) => m.name === model).aliases).toEqual({ production: 2, 'challenger-eu': 3 });
  });

  it('answers which version served production at a time, who put it there and why', async () => {
    const then = await stack.api('GET', `/v1/models/${model}/aliases/production/at?time=${encodeURIComponent(beforeV2)}`);
    expect(then.status).toBe(200);
    expect(then.body).toMatchObject({ version: 1, actor: 'admin', reason: 'first release', source: 'api' });
    const now = await stack.api('GET', `/v1/models/${model}/aliases/production/at?time=${encodeURIComponent(new Date().toISOString())}`);
    expect(now.body).toMatchObject({ version: 2, reason: 'better recall', previousVersion: 1 });
    expect((await stack.api('GET', `/v1/models/${model}/aliases/production/at?time=2000-01-01T00:00:00Z`)).status).toBe(404);
    expect((await stack.api('GET', `/v1/models/${model}/aliases/production/at?time=yesterday`)).status).toBe(400);
  });

  it('rolls production back to the previous version in one call, recorded in the history', async () => {
    const res = await stack.api('POST', `/v1/models/${model}/rollback`, { reason: 'v2 errors in prod' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ alias: 'production', version: 1, previousVersion: 2 });
    const history = await stack.api('GET', `/v1/models/${model}/aliases/production/history`);
    expect(history.body.history.map((h: { version: number; source: string }) => [h.version, h.source])).toEqual([
      [1, 'rollback'],
      [2, 'api'],
      [1, 'api'],
    ]);
    expect(history.body.history[0]).toMatchObject({ reason: 'v2 errors in prod', previousVersion: 2 });
    const nothing = await stack.api('POST', `/v1/models/${model}/rollback`, { reason: 'x', alias: 'never-set' });
    expect(nothing.status).toBe(409);
    expect((await stack.api('POST', '/v1/models/nope/rollback', { reason: 'x' })).status).toBe(404);
  });

  it('archives a version no alias points at, and no alias may point at it afterwards', async () => {
    const aliased = await stack.api('POST', `/v1/models/${model}/versions/1/archive`);
    expect(aliased.status).toBe(409);
    expect(aliased.body.error).toContain('@production');
    const archived = await stack.api('POST', `/v1/models/${model}/versions/2/archive`);
    expect(archived.status).toBe(200);
    expect(archived.body.archivedAt).toEqual(expect.any(String));
    const again = await stack.api('POST', `/v1/models/${model}/versions/2/archive`);
    expect(again.body.archivedAt).toBe(archived.body.archivedAt);
    const point = await stack.api('PUT', `/v1/models/${model}/aliases/production`, { version: 2, reason: 'undo' });
    expect(point.status).toBe(409);
    expect(point.body.error).toContain('archived');
  });
});
