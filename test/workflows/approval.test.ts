// Approval handling against the real dev server: identity rules, the Signal path, reminder and deadline timers.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { creditCsv, DEMO_DATASET } from '../../lib/demo/credit-dataset.js';
import type { ApprovalPolicy } from '../../lib/release/types.js';
import { approveUpdate, decideSignal, ingestionWorkflow, releaseStatusQuery, releaseWorkflow, statusQuery, trainingWorkflow } from '../../workflows/index.js';
import { startStack, waitFor, type Stack } from '../setup/harness.js';
import { saveHistory } from '../setup/histories.js';

let stack: Stack;
let datasetVersionId: string;
let hooks: Server;
let hookUrl: string;
const received: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  stack = await startStack();
  const csv = path.join(stack.tmpDir, 'credit.csv');
  await writeFile(csv, creditCsv(300, 9));
  const ds = await stack.runtime.client.workflow.execute(ingestionWorkflow, {
    workflowId: `ingest-approval-${Date.now()}`,
    taskQueue: stack.config.taskQueues.orchestration,
    args: [{ name: `approval-${Date.now()}`, sourceUri: csv }],
  });
  datasetVersionId = ds.id;
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/hook`;
});
afterAll(async () => {
  hooks?.close();
  await stack?.stop();
});

async function startAndWait(name: string, approval?: ApprovalPolicy) {
  const handle = await stack.runtime.client.workflow.start(trainingWorkflow, {
    workflowId: `train-${name}-${Date.now()}`,
    taskQueue: stack.config.taskQueues.orchestration,
    args: [{ modelName: `${name}-${Date.now()}`, datasetVersionId, target: DEMO_DATASET.target, features: [...DEMO_DATASET.features], startedBy: 'alice', approval }],
  });
  const { releaseWorkflowId } = await waitFor(() => handle.query(statusQuery), (s) => s.stage === 'releasing');
  const release = stack.runtime.client.workflow.getHandle<typeof releaseWorkflow>(releaseWorkflowId!);
  await waitFor(() => release.query(releaseStatusQuery), (s) => s.stage === 'awaiting_approval');
  return release;
}

describe('approval', () => {
  it('refuses the run starter and anyone off the approver list, and tells the caller why', async () => {
    const handle = await startAndWait('identity', { approvers: ['carol'] });
    for (const approver of ['alice', 'bob']) {
      const err = await handle.executeUpdate(approveUpdate, { args: [{ approver, reason: 'ship it' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(((err as WorkflowUpdateFailedError).cause as { type?: string }).type).toBe('ForbiddenError');
    }
    const record = await handle.executeUpdate(approveUpdate, { args: [{ approver: 'carol', reason: 'ship it' }] });
    expect(record).toMatchObject({ approved: true, approver: 'carol', via: 'update' });
    await handle.result();
  });

  it('takes a decision as a Signal, records invalid Signals and ignores them', async () => {
    const handle = await startAndWait('signal');
    await handle.signal(decideSignal, { decision: 'approve', approver: 'alice', reason: 'mine' });
    await handle.signal(decideSignal, { decision: 'approve', approver: 'bob', reason: '' });
    await handle.signal(decideSignal, { decision: 'approve', approver: 'bob', reason: 'ok via CLI' });
    const result = await handle.result();
    expect(result.decision).toMatchObject({ approved: true, approver: 'bob', via: 'signal' });
    const status = await handle.query(releaseStatusQuery);
    expect(status.refusedDecisions.map((r) => r.approver)).toEqual(['alice', 'bob']);
    expect(status.refusedDecisions[0].error).toContain('started this training run');
    const { rows } = await stack.runtime.db.query('select approver, approved, via from release_decisions where release_id = $1', [handle.workflowId]);
    expect(rows).toEqual([{ approver: 'bob', approved: true, via: 'signal' }]);
    await saveHistory('release-signal', handle.workflowId, await handle.fetchHistory());
  });

  it('sends a reminder on a durable timer and rejects automatically at the deadline', async () => {
    const handle = await startAndWait('deadline', { reminderAfterSeconds: 1, reminderWebhook: hookUrl, deadlineSeconds: 3 });
    const result = await handle.result();
    expect(result.approved).toBe(false);
    expect(result.decision.via).toBe('deadline');
    const reminder = received.find((r) => r.workflowId === handle.workflowId);
    expect(reminder).toMatchObject({ event: 'approval.reminder', version: 1 });
    expect((await handle.query(releaseStatusQuery)).reminderSentAt).toBeDefined();
    const alias = await stack.runtime.db.query('select 1 from model_aliases where model_name = $1', [result.modelName]);
    expect(alias.rowCount).toBe(0);
    await saveHistory('release-deadline', handle.workflowId, await handle.fetchHistory());
  });
});

/** Runs the Temporal CLI against the suite's dev server, as an approver at a terminal would. */
function temporalCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(inject('temporalCliPath'), [...args, '--address', inject('temporalAddress'), '--namespace', 'default']);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('approval from the Temporal CLI', () => {
  it('approves with `temporal workflow update execute`, through the same validator', async () => {
    const handle = await startAndWait('cli-update');
    const refused = await temporalCli(['workflow', 'update', 'execute', '--workflow-id', handle.workflowId, '--name', 'approve', '--input', JSON.stringify({ approver: 'alice', reason: 'mine' })]);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toContain('started this training run');
    const ok = await temporalCli(['workflow', 'update', 'execute', '--workflow-id', handle.workflowId, '--name', 'approve', '--input', JSON.stringify({ approver: 'bob', reason: 'from the terminal' })]);
    expect(ok.code).toBe(0);
    const result = await handle.result();
    expect(result.decision).toMatchObject({ approved: true, approver: 'bob', via: 'update' });
  });

  it('rejects with `temporal workflow signal --name decide`', async () => {
    const handle = await startAndWait('cli-signal');
    const sent = await temporalCli(['workflow', 'signal', '--workflow-id', handle.workflowId, '--name', 'decide', '--input', JSON.stringify({ decision: 'reject', approver: 'bob', reason: 'not yet' })]);
    expect(sent.code).toBe(0);
    const result = await handle.result();
    expect(result.decision).toMatchObject({ approved: false, approver: 'bob', via: 'signal' });
  });
});
