// Bring your own model over HTTP: upload a scikit-learn model converted with skl2onnx, approve its release,
// and score it on @production; bad uploads are refused with the input named.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { ingestionWorkflow } from '../../workflows/index.js';
import { releaseStatusQuery } from '../../workflows/release.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';

const dir = new URL('../fixtures/models/', import.meta.url);
const onnxBase64 = readFileSync(new URL('iris-logreg.onnx', dir)).toString('base64');
const fixture = JSON.parse(readFileSync(new URL('iris-logreg.json', dir), 'utf8'));

let stack: Stack;
let evaluation: { datasetVersionId: string; target: string };
beforeAll(async () => {
  stack = await startStack();
  const ds = await stack.runtime.client.workflow.execute(ingestionWorkflow, {
    workflowId: `ingest-iris-${Date.now()}`,
    taskQueue: stack.config.taskQueues.orchestration,
    args: [{ name: `iris-${Date.now()}`, sourceUri: fileURLToPath(new URL('iris.csv', dir)) }],
  });
  evaluation = { datasetVersionId: ds.id, target: 'species' };
});
afterAll(async () => stack?.stop());

describe('POST /v1/model-uploads', () => {
  const modelName = `iris-${Date.now()}`;

  it('registers the model, starts its release, and after approval serves scikit-learn\'s probabilities', async () => {
    const res = await stack.api('POST', '/v1/model-uploads', { modelName, onnxBase64, signature: fixture.signature, uploadedBy: 'alice', metrics: { accuracy: 0.97 }, evaluation });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ modelName, version: 1, created: true, releaseWorkflowId: `release-${modelName}-v1` });
    const release = stack.runtime.client.workflow.getHandle(res.body.releaseWorkflowId);
    await waitFor(() => release.query(releaseStatusQuery), (s) => s.stage === 'awaiting_approval');

    const again = await stack.api('POST', '/v1/model-uploads', { modelName, onnxBase64, signature: fixture.signature, uploadedBy: 'alice', evaluation });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ version: 1, created: false });

    const self = await stack.api('POST', `/v1/approvals/${res.body.releaseWorkflowId}`, { decision: 'approve', reason: 'mine' }, { key: await stack.keyFor('alice', ['approver']) });
    expect(self.status).toBe(403);
    const approved = await stack.api('POST', `/v1/approvals/${res.body.releaseWorkflowId}`, { decision: 'approve', reason: 'validated offline' }, { key: await stack.keyFor('bob', ['approver']) });
    expect(approved.status).toBe(200);
    await release.result();

    const scored = await stack.api('POST', `/v1/models/${modelName}/predict`, { rows: fixture.rows });
    expect(scored.status).toBe(200);
    expect(scored.body.version).toBe(1);
    scored.body.predictions.forEach((p: { label: string; probabilities: Record<string, number> }, i: number) => {
      expect(p.label).toBe(fixture.labels[i]);
      fixture.signature.classes.forEach((c: string, k: number) => expect(Math.abs(p.probabilities[c] - fixture.probabilities[i][k])).toBeLessThan(1e-5));
    });
    const versions = await stack.api('GET', `/v1/models/${modelName}`);
    expect(versions.body.versions[0]).toMatchObject({ version: 1, trainingRunId: null, metrics: { accuracy: 0.97 } });
  });

  it('answers 400 naming the problem for a model that does not load or does not match its signature', async () => {
    const garbage = await stack.api('POST', '/v1/model-uploads', { modelName, onnxBase64: Buffer.from('nope').toString('base64'), signature: fixture.signature, uploadedBy: 'alice' });
    expect(garbage.status).toBe(400);
    const badInput = await stack.api('POST', '/v1/model-uploads', {
      modelName,
      onnxBase64,
      signature: { ...fixture.signature, inputs: [{ ...fixture.signature.inputs[0], name: 'float_input' }] },
      uploadedBy: 'alice',
    });
    expect(badInput.status).toBe(400);
    expect(badInput.body.error).toContain('"float_input"');
    const badTarget = await stack.api('POST', '/v1/model-uploads', { modelName, onnxBase64, signature: fixture.signature, uploadedBy: 'alice', evaluation: { ...evaluation, target: 'petal_width' } });
    expect(badTarget.status).toBe(400);
    expect(badTarget.body.error).toContain('not one of the signature\'s classes');
  });
});
