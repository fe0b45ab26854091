// The main job of `npm start`: ingest the demo dataset, train a model through the API, and print next steps.
import { DEMO_DATASET, writeCreditCsv } from '../lib/demo/credit-dataset.js';

interface DemoOptions {
  apiUrl: string;
  /** Sent as `Authorization: Bearer`; needs the trainer role (admin has it). */
  apiKey: string;
  /** Where the key is stored, for the printed instructions (absent when it came from MLCYCLE_API_KEY). */
  keyFile?: string;
  dataDir: string;
  temporalAddress: string;
  namespace: string;
  uiUrl?: string;
  log: (msg: string) => void;
}

async function call<T>(o: Pick<DemoOptions, 'apiUrl' | 'apiKey'>, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(o.apiUrl + route, {
    method,
    headers: { authorization: `Bearer ${o.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${json.error ?? JSON.stringify(json)}`);
  return json;
}

export async function runDemo(o: DemoOptions): Promise<string> {
  const csv = await writeCreditCsv(o.dataDir);
  const dataset = await call<{ id: string; rowCount: number; created: boolean }>(o, 'POST', '/v1/datasets', { name: DEMO_DATASET.name, uri: csv });
  o.log(`Dataset ${dataset.id}: ${dataset.rowCount} rows (${dataset.created ? 'new version' : 'already ingested, reused'})`);

  const run = await call<{ id: string }>(o, 'POST', '/v1/training-runs', {
    modelName: DEMO_DATASET.modelName,
    datasetVersionId: dataset.id,
    target: DEMO_DATASET.target,
    features: [...DEMO_DATASET.features],
    startedBy: 'demo',
  });
  o.log(`Training run ${run.id} started`);

  const deadline = Date.now() + 5 * 60_000;
  let status: {
    stage?: string;
    workflowStatus: string;
    version?: number;
    metrics?: Record<string, number>;
    failure?: string;
    release?: { workflowId: string; stage: string };
  };
  for (;;) {
    status = await call(o, 'GET', `/v1/training-runs/${run.id}`);
    if (status.release?.stage === 'awaiting_approval' || status.workflowStatus !== 'RUNNING') break;
    if (Date.now() > deadline) throw new Error(`Training run ${run.id} did not reach approval within 5 minutes (stage ${status.stage}).`);
    await new Promise((r) => setTimeout(r, 300));
  }
  if (status.release?.stage !== 'awaiting_approval') throw new Error(`Training run ${run.id} ended ${status.workflowStatus}: ${status.failure ?? 'see the Web UI'}`);
  const releaseId = status.release.workflowId;

  const m = status.metrics ?? {};
  const input = JSON.stringify({ approver: 'you@example.com', reason: 'validation metrics look good' });
  const example = JSON.stringify({ rows: [{ income: 42.5, debt_ratio: 0.61, age: 29, late_payments: 2, utilization: 0.83 }] });
  const auth = `-H "authorization: Bearer ${o.keyFile ? `$(cat ${o.keyFile})` : '$MLCYCLE_API_KEY'}"`;
  const lines = [
    '',
    `Model ${DEMO_DATASET.modelName} version ${status.version} is trained and waits for approval in release workflow ${releaseId}.`,
    `  validation accuracy ${m.accuracy?.toFixed(3)}, log loss ${m.log_loss?.toFixed(3)}`,
    `  evaluation report: ${o.apiUrl}/v1/models/${DEMO_DATASET.modelName}/versions/${status.version}/report (send the API key)`,
    '',
    'Approve it (any one of):',
    `  curl -s ${o.apiUrl}/v1/approvals ${auth}        # pending releases, with their gate summary and report link`,
    `  curl -s -X POST ${o.apiUrl}/v1/approvals/${releaseId} -H 'content-type: application/json' ${auth} \\`,
    `       -d '{"decision":"approve","reason":"validation metrics look good"}'`,
    `  npx tsx cli/mlcycle.ts approve ${releaseId} --reason "validation metrics look good"`,
    '  (through the API the approver is the API key\'s name; give each approver their own key:',
    '   npx tsx cli/mlcycle.ts keys create --name you@example.com --role approver)',
    `  temporal workflow update execute --address ${o.temporalAddress} --namespace ${o.namespace} \\`,
    `       --workflow-id ${releaseId} --name approve --input '${input}'`,
    ...(o.uiUrl ? [`  or open ${o.uiUrl}/namespaces/${o.namespace}/workflows/${releaseId} and send the approve Update there`] : []),
    '',
    'Then score it:',
    `  curl -s -X POST ${o.apiUrl}/v1/models/${DEMO_DATASET.modelName}/predict -H 'content-type: application/json' ${auth} -d '${example}'`,
    '',
  ];
  console.log(lines.join('\n'));
  return releaseId;
}
