// Training stage: train -> ONNX parity -> register -> wait for a human decision -> set the production alias.
import { condition, defineQuery, defineUpdate, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo, setCurrentDetails } from '@temporalio/workflow';
import type { createRegistryActivities } from '../activities/registry.js';
import type { createTrainingActivities } from '../activities/training.js';
import { validateDecision } from '../lib/release/approval.js';
import { PRODUCTION_ALIAS } from '../lib/registry/types.js';
import type { ApprovalDecision, ApprovalRecord, TrainingInput, TrainingResult, TrainingStage, TrainingStatus } from '../lib/training/types.js';
import { longCpu, SHORT_IO } from './activity-options.js';
import { MODEL_NAME, MODEL_VERSION, STAGE } from './search-attributes.js';

export const approveUpdate = defineUpdate<ApprovalRecord, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<ApprovalRecord, [ApprovalDecision]>('reject');
export const statusQuery = defineQuery<TrainingStatus>('status');

const registry = proxyActivities<ReturnType<typeof createRegistryActivities>>(SHORT_IO);

export async function trainingWorkflow(input: TrainingInput): Promise<TrainingResult> {
  const { trainModel, checkOnnxParity } = proxyActivities<ReturnType<typeof createTrainingActivities>>(longCpu());
  const runId = workflowInfo().workflowId;
  const status: TrainingStatus = { stage: 'training', modelName: input.modelName };
  let decision: ApprovalRecord | undefined;

  const enter = (stage: TrainingStage, details: string) => {
    status.stage = stage;
    upsertSearchAttributes([{ key: STAGE, value: stage }]);
    setCurrentDetails(details);
  };
  const decide = (approved: boolean) => (d: ApprovalDecision): ApprovalRecord => {
    decision = { approver: d.approver.trim(), reason: d.reason.trim(), approved, at: new Date().toISOString() };
    status.decision = decision;
    return decision;
  };
  const awaiting = () => status.stage === 'awaiting_approval' && decision === undefined;
  setHandler(statusQuery, () => status);
  setHandler(approveUpdate, decide(true), { validator: (d) => validateDecision(d, awaiting()) });
  setHandler(rejectUpdate, decide(false), { validator: (d) => validateDecision(d, awaiting()) });

  upsertSearchAttributes([{ key: MODEL_NAME, value: input.modelName }]);
  enter('training', `Training **${input.modelName}** on dataset \`${input.datasetVersionId}\``);
  const trained = await trainModel(runId, input);
  status.metrics = trained.metrics;

  enter('checking_parity', 'Checking onnxruntime against the trainer');
  const parity = await checkOnnxParity(trained);
  status.maxAbsDiff = parity.maxAbsDiff;

  enter('registering', 'Registering the model version');
  const mv = await registry.registerModelVersion({
    modelName: input.modelName,
    trainingRunId: runId,
    sha256: trained.modelSha256,
    uri: trained.modelUri,
    signature: trained.signature,
    metrics: { ...trained.metrics, onnx_max_abs_diff: parity.maxAbsDiff },
    params: { ...trained.params, target: input.target },
    datasetVersionId: input.datasetVersionId,
    createdBy: input.startedBy,
  });
  status.version = mv.version;
  upsertSearchAttributes([{ key: MODEL_VERSION, value: mv.version }]);

  enter('awaiting_approval', `Version ${mv.version} awaits approval: send the \`approve\` or \`reject\` Update`);
  await condition(() => decision !== undefined);
  const final = decision!;

  if (final.approved) {
    enter('promoting', `Approved by ${final.approver}; setting @${PRODUCTION_ALIAS}`);
    await registry.setModelAlias({
      modelName: input.modelName,
      alias: PRODUCTION_ALIAS,
      version: mv.version,
      actor: final.approver,
      reason: final.reason,
      source: runId,
    });
    await registry.setTrainingRunStatus(runId, 'promoted');
    enter('completed', `Version ${mv.version} is @${PRODUCTION_ALIAS}`);
  } else {
    await registry.setTrainingRunStatus(runId, 'rejected');
    enter('rejected', `Rejected by ${final.approver}: ${final.reason}`);
  }
  return { modelName: input.modelName, version: mv.version, approved: final.approved, decision: final, metrics: status.metrics };
}
