// The Open Inference Protocol (v2) over real HTTP: metadata from the loaded session, tensor inference that
// agrees with /v1 predict, BYTES inputs for a categorical feature, the prediction log, and every refusal.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import { registerUploadedModelVersion } from '../../lib/registry/registry.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';

let stack: Stack;
const modelName = `v2-${Date.now()}`;
const numeric = [...DEMO_DATASET.features];
const regions = ['north', 'south', 'east'];

/** The demo credit data with a categorical `region` column, so the model has a string (BYTES) input. */
function creditWithRegion(rows: number, seed: number): string {
  const lines = creditCsv(rows, seed).trimEnd().split('\n');
  return [`${lines[0]},region`, ...lines.slice(1).map((l, i) => `${l},${regions[i % 3]}`)].join('\n') + '\n';
}

const rows = [
  { income: 42.5, debt_ratio: 0.61, age: 29, late_payments: 2, utilization: 0.83, region: 'north' },
  { income: 80, debt_ratio: 0.2, age: 51, late_payments: 0, utilization: 0.1, region: 'east' },
  { income: null, debt_ratio: 0.4, age: 35, late_payments: 1, utilization: 0.5, region: 'nowhere' },
];
const flatFeatures = rows.flatMap((r) => numeric.map((f) => r[f]));
const tensorsFlat = [
  { name: 'features', shape: [3, 5], datatype: 'FP32', data: flatFeatures },
  { name: 'region', shape: [3, 1], datatype: 'BYTES', data: rows.map((r) => r.region) },
];
const tensorsNested = [
  { name: 'features', shape: [3, 5], datatype: 'FP32', data: rows.map((r) => numeric.map((f) => r[f])) },
  { name: 'region', shape: [3, 1], datatype: 'BYTES', data: rows.map((r) => [r.region]) },
];

beforeAll(async () => {
  stack = await startStack();
  const csv = path.join(stack.tmpDir, 'credit-region.csv');
  await writeFile(csv, creditWithRegion(300, 11));
  const ds = await stack.api('POST', '/v1/datasets', { name: `v2-${Date.now()}`, uri: csv });
  expect(ds.status).toBe(201);
  const run = await stack.api('POST', '/v1/training-runs', {
    modelName,
    datasetVersionId: ds.body.id,
    target: DEMO_DATASET.target,
    features: [...numeric, 'region'],
    startedBy: 'alice',
  });
  expect(run.status).toBe(202);
  await waitFor(() => stack.api('GET', `/v1/training-runs/${run.body.id}`), (r) => r.body.release?.stage === 'awaiting_approval' || r.body.workflowStatus === 'FAILED');
  const approved = await stack.api('POST', `/v1/approvals/${run.body.id}`, { decision: 'approve', reason: 'v2 test' }, { key: await stack.keyFor('bob', ['approver']) });
  expect(approved.status).toBe(200);
  await waitFor(() => stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [rows[0]] }), (r) => r.status === 200);
});
afterAll(async () => stack?.stop());

describe('server', () => {
  it('answers metadata, liveness and readiness without a key', async () => {
    const meta = await stack.api('GET', '/v2', undefined, { key: null });
    expect(meta.status).toBe(200);
    expect(meta.body).toEqual({ name: 'mlcycle', version: expect.any(String), extensions: [] });
    expect((await stack.api('GET', '/v2/health/live', undefined, { key: null })).status).toBe(200);
    expect((await stack.api('GET', '/v2/health/ready', undefined, { key: null })).status).toBe(200);
  });
});

describe('model metadata', () => {
  it('describes inputs and outputs from the session: datatypes, -1 for the batch dimension, packed features', async () => {
    const expected = {
      name: modelName,
      platform: 'onnx_onnxv1',
      inputs: [
        { name: 'features', datatype: 'FP32', shape: [-1, 5], parameters: { features: numeric } },
        { name: 'region', datatype: 'BYTES', shape: [-1, 1], parameters: { features: ['region'] } },
      ],
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
      ],
    };
    const latest = await stack.api('GET', `/v2/models/${modelName}`);
    expect(latest.status).toBe(200);
    expect(latest.body).toEqual({ ...expected, versions: ['1'] });
    const v1 = await stack.api('GET', `/v2/models/${modelName}/versions/1`);
    expect(v1.body).toEqual({ ...expected, versions: ['1'] });
  });

  it('says when a model is ready', async () => {
    const ready = await waitFor(() => stack.api('GET', `/v2/models/${modelName}/ready`), (r) => r.status === 200, 10_000);
    expect(ready.body).toEqual({ name: modelName, version: '1', ready: true });
    expect((await stack.api('GET', `/v2/models/${modelName}/versions/1/ready`)).status).toBe(200);
  });

  it('answers 404 with an error for an unknown model or version', async () => {
    for (const route of [`/v2/models/nope-${Date.now()}`, `/v2/models/${modelName}/versions/99`, `/v2/models/${modelName}/versions/abc`, `/v2/models/${modelName}/versions/99/ready`]) {
      const res = await stack.api('GET', route);
      expect(res.status, route).toBe(404);
      expect(res.body.error, route).toMatch(/does not exist|has no version/);
    }
  });
});

describe('infer', () => {
  it('scores flat and nested data alike, as /v1 predict does, echoes the id and logs every row', async () => {
    const flat = await stack.api('POST', `/v2/models/${modelName}/infer`, { id: 'req-42', inputs: tensorsFlat });
    expect(flat.status).toBe(200);
    expect(flat.body).toMatchObject({ model_name: modelName, model_version: '1', id: 'req-42', parameters: { arm: 'stable' } });
    const [label, probabilities] = flat.body.outputs;
    expect(label).toMatchObject({ name: 'label', datatype: 'BYTES', shape: [3] });
    expect(probabilities).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [3, 2] });

    const nested = await stack.api('POST', `/v2/models/${modelName}/infer`, { inputs: tensorsNested });
    expect(nested.status).toBe(200);
    expect(nested.body.outputs).toEqual(flat.body.outputs);
    // Without an id the request id is the answer's id.
    expect(nested.body.id).toBe(nested.body.parameters.request_id);

    const v1 = await stack.api('POST', `/v1/models/${modelName}/predict`, { rows });
    expect(v1.status).toBe(200);
    expect(label.data).toEqual(v1.body.predictions.map((p: { label: string }) => p.label));
    expect(probabilities.data).toEqual(v1.body.predictions.flatMap((p: { probabilities: Record<string, number> }) => [p.probabilities.no, p.probabilities.yes]));

    const ids: string[] = flat.body.parameters.prediction_ids;
    expect(ids).toHaveLength(3);
    await stack.app.predictionLog.flush();
    const logged = await stack.runtime.db.query('select id, version, arm, inputs, outputs from predictions where id = any($1)', [ids]);
    expect(logged.rows).toHaveLength(3);
    const byId = new Map(logged.rows.map((r) => [r.id, r]));
    ids.forEach((id, i) => {
      expect(byId.get(id)).toMatchObject({ version: 1, arm: 'stable', inputs: rows[i], outputs: { label: label.data[i] } });
    });
  });

  it('takes one tensor per feature, selects outputs, and scores a named version directly', async () => {
    const columnar = [
      ...numeric.map((f) => ({ name: f, shape: [3], datatype: 'FP64', data: rows.map((r) => r[f]) })),
      { name: 'region', shape: [3], datatype: 'BYTES', data: rows.map((r) => r.region) },
    ];
    const res = await stack.api('POST', `/v2/models/${modelName}/versions/1/infer`, { inputs: columnar, outputs: [{ name: 'probabilities' }] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ model_version: '1', parameters: { arm: 'direct' } });
    expect(res.body.outputs.map((o: { name: string }) => o.name)).toEqual(['probabilities']);
    const flat = await stack.api('POST', `/v2/models/${modelName}/infer`, { inputs: tensorsFlat });
    expect(res.body.outputs[0].data).toEqual(flat.body.outputs[1].data);
  });

  it('refuses a bad shape, datatype, name, value or output with 400 and the reason', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ inputs: [{ ...tensorsFlat[0], shape: [3, 4] }, tensorsFlat[1]] }, /Input "features" has shape \[3, 4\]; the model takes \[N, 5\]/],
      [{ inputs: [{ ...tensorsFlat[0], shape: [2, 5] }, tensorsFlat[1]] }, /shape \[2, 5\] holds 10 elements but data has 15/],
      [{ inputs: [{ ...tensorsFlat[0], datatype: 'INT64' }, tensorsFlat[1]] }, /Input "features" has datatype "INT64"; the model takes FP32/],
      [{ inputs: [tensorsFlat[0], { ...tensorsFlat[1], datatype: 'FP32' }] }, /Input "region" has datatype "FP32"; the model takes BYTES/],
      [{ inputs: [{ ...tensorsFlat[0], name: 'input_0' }, tensorsFlat[1]] }, /Unknown input "input_0"/],
      [{ inputs: [tensorsFlat[0]] }, /Missing input for feature "region"/],
      [{ inputs: [{ ...tensorsFlat[0], data: flatFeatures.map((v, i) => (i === 2 ? 'x' : v)) }, tensorsFlat[1]] }, /Input "features": element 2 is "x"/],
      [{ inputs: tensorsFlat, outputs: [{ name: 'scores' }] }, /Unknown output "scores"/],
      [{ inputs: tensorsFlat, extra: 1 }, /must NOT have additional properties/],
    ];
    for (const [body, reason] of cases) {
      const res = await stack.api('POST', `/v2/models/${modelName}/infer`, body);
      expect(res.status, JSON.stringify(body).slice(0, 120)).toBe(400);
      expect(res.body.error).toMatch(reason);
    }
  });

  it('refuses a categorical value Postgres could not log (U+0000, an unpaired surrogate) with 400 naming row and feature, by /v1 and /v2', async () => {
    for (const bad of ['ea\u0000st', '\ud800', 'x\udc00']) {
      const v1 = await stack.api('POST', `/v1/models/${modelName}/predict`, { rows: [rows[0], { ...rows[1], region: bad }] });
      expect(v1.status).toBe(400);
      expect(v1.body.error).toContain('row 1: feature "region" must be a string without U+0000 or unpaired UTF-16 surrogates');
      const v2 = await stack.api('POST', `/v2/models/${modelName}/infer`, { inputs: [tensorsFlat[0], { ...tensorsFlat[1], data: ['north', 'south', bad] }] });
      expect(v2.status).toBe(400);
      expect(v2.body.error).toBe('Input "region": element 2 (row 2, feature "region") must be a string without U+0000 or unpaired UTF-16 surrogates.');
    }
    // The log takes the next requests as usual.
    const ok = await stack.api('POST', `/v1/models/${modelName}/predict`, { rows });
    expect(ok.status).toBe(200);
    await stack.app.predictionLog.flush();
    expect(stack.app.predictionLog.depth).toBe(0);
    const logged = await stack.runtime.db.query('select count(*)::int as n from predictions where request_id = $1', [ok.body.requestId]);
    expect(logged.rows[0].n).toBe(3);
  });

  it('logs a row as parsed when its text hides a value JSON.parse drops (a duplicate key with a \\u0000)', async () => {
    // JSON.parse keeps the last of two equal keys; the text as sent still holds the first.
    const hidden = JSON.stringify({ rows: [rows[0]] }).replace('"region":', '"region":"\\u0000","region":');
    expect(JSON.parse(hidden).rows[0]).toEqual(rows[0]);
    const sent = await fetch(`${stack.url}/v1/models/${modelName}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.adminKey}` },
      body: hidden,
    });
    expect(sent.status).toBe(200);
    await stack.app.predictionLog.flush();
    expect(stack.app.predictionLog.depth).toBe(0);
    const logged = await stack.runtime.db.query('select inputs from predictions where request_id = $1', [((await sent.json()) as { requestId: string }).requestId]);
    expect(logged.rows.map((r) => r.inputs)).toEqual([rows[0]]);
  });

  it('refuses a body over the scoring limit with 413 and the limit, and still scores afterwards', async () => {
    const rowsOverLimit = 100_000; // ~6 MB of JSON: over the 4 MiB limit of the scoring routes
    const big = { inputs: [{ name: 'features', shape: [rowsOverLimit, 5], datatype: 'FP32', data: new Array(rowsOverLimit * 5).fill(12.345678) }, { ...tensorsFlat[1], shape: [rowsOverLimit, 1], data: new Array(rowsOverLimit).fill('north') }] };
    const res = await stack.api('POST', `/v2/models/${modelName}/infer`, big);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'PayloadTooLarge' });
    expect(res.body.error).toContain(`limit of ${4 * 1024 * 1024} bytes`);
    expect((await stack.api('POST', `/v2/models/${modelName}/infer`, { inputs: tensorsFlat })).status).toBe(200);
  });

  it('answers 404 for an unknown model or version', async () => {
    const unknownModel = await stack.api('POST', `/v2/models/nope-${Date.now()}/infer`, { inputs: tensorsFlat });
    expect(unknownModel.status).toBe(404);
    expect(unknownModel.body.error).toMatch(/does not exist/);
    const unknownVersion = await stack.api('POST', `/v2/models/${modelName}/versions/7/infer`, { inputs: tensorsFlat });
    expect(unknownVersion.status).toBe(404);
    expect(unknownVersion.body.error).toMatch(/has no version 7/);
  });

  it('needs a scorer key to infer; any key reads metadata', async () => {
    expect((await stack.api('POST', `/v2/models/${modelName}/infer`, { inputs: tensorsFlat }, { key: null })).status).toBe(401);
    const viewer = await stack.createKey(['viewer']);
    expect((await stack.api('POST', `/v2/models/${modelName}/infer`, { inputs: tensorsFlat }, { key: viewer })).status).toBe(403);
    expect((await stack.api('GET', `/v2/models/${modelName}`, undefined, { key: viewer })).status).toBe(200);
    const scorer = await stack.createKey(['scorer']);
    expect((await stack.api('POST', `/v2/models/${modelName}/infer`, { inputs: tensorsFlat }, { key: scorer })).status).toBe(200);
  });
});

describe('a scikit-learn model addressed by version', () => {
  const fixtures = new URL('../fixtures/models/', import.meta.url);
  const iris = `iris-v2-${Date.now()}`;

  it('is not ready until its session is loaded, then scores scikit-learn\'s probabilities', async () => {
    const fixture = JSON.parse(await readFile(new URL('iris-logreg.json', fixtures), 'utf8'));
    const stored = await stack.runtime.artifacts.put(await readFile(new URL('iris-logreg.onnx', fixtures)));
    await registerUploadedModelVersion(stack.runtime.db, { modelName: iris, sha256: stored.sha256, uri: stored.uri, signature: fixture.signature, metrics: {}, params: {}, createdBy: 'test' });

    // No @production yet: the unversioned routes have nothing to serve.
    expect((await stack.api('GET', `/v2/models/${iris}/ready`)).status).toBe(404);
    const notReady = await stack.api('GET', `/v2/models/${iris}/versions/1/ready`);
    expect(notReady.status).toBe(400);
    expect(notReady.body.error).toMatch(/not ready/);
    await waitFor(() => stack.api('GET', `/v2/models/${iris}/versions/1/ready`), (r) => r.status === 200, 10_000);

    const meta = await stack.api('GET', `/v2/models/${iris}/versions/1`);
    expect(meta.body).toMatchObject({
      versions: ['1'],
      inputs: [{ name: 'X', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });
    const rows: Array<Record<string, number>> = fixture.rows.slice(0, 20);
    const names = fixture.signature.features.map((f: { name: string }) => f.name);
    const res = await stack.api('POST', `/v2/models/${iris}/versions/1/infer`, {
      inputs: [{ name: 'X', shape: [rows.length, 4], datatype: 'FP64', data: rows.map((r) => names.map((n: string) => r[n])) }],
    });
    expect(res.status).toBe(200);
    expect(res.body.outputs[0].data).toEqual(fixture.labels.slice(0, 20).map(String));
    const expected: number[] = fixture.probabilities.slice(0, 20).flat();
    res.body.outputs[1].data.forEach((p: number, i: number) => expect(Math.abs(p - expected[i])).toBeLessThan(1e-5));
  });
});
