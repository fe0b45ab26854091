// Training stage: train -> ONNX parity -> register the version -> hand it to the release stage (a child workflow).
import { startChild, defineQuery, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo, ParentClosePolicy } from '@temporalio/workflow';
import type { createRegistryActivities } from '../activities/registry.js';
import type { createTrainingActivities } from '../activities/training.js';
import type { TrainingInput, TrainingResult, TrainingStage, TrainingStatus } from '../lib/training/types.js';
import { longCpu, SHORT_IO } from './activity-options.js';
import { releaseWorkflow, releaseWorkflowId } from './release.js';
import { MODEL_NAME, MODEL_VERSION, STAGE } from './search-attributes.js';

export const statusQuery = defineQuery<TrainingStatus>('status');

const registry = proxyActivities<ReturnType<typeof createRegistryActivities>>(SHORT_IO);

export async function trainingWorkflow(input: TrainingInput): Promise<TrainingResult> {
  const { trainModel, checkOnnxParity } = proxyActivities<ReturnType<typeof createTrainingActivities>>(longCpu());
  const runId = workflowInfo().workflowId;
  const status: TrainingStatus = { stage: 'training', modelName: input.modelName };
  const enter = (stage: TrainingStage, details: string) => {
    status.stage = stage;
    upsertSearchAttributes([{ key: STAGE, value: stage }]);
    setCurrentDetails(details);
  };
  setHandler(statusQuery, () => status);

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
    evaluationUri: trained.validationUri,
    createdBy: input.startedBy,
  });
  status.version = mv.version;
  upsertSearchAttributes([{ key: MODEL_VERSION, value: mv.version }]);

  const releaseId = releaseWorkflowId(input.modelName, mv.version);
  const child = await startChild(releaseWorkflow, {
    workflowId: releaseId,
    args: [{ modelName: input.modelName, version: mv.version, trainingRunId: runId, startedBy: input.startedBy, approval: input.approval }],
    staticSummary: `Release ${input.modelName} v${mv.version}`,
    // An approver may still be deciding when someone cancels the training run; the release stands alone.
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  // Published only once the child exists, so whoever reads the id can query it.
  status.releaseWorkflowId = releaseId;
  enter('releasing', `Version ${mv.version} is in release workflow \`${releaseId}\`, which waits for approval`);
  const release = await child.result();
  enter(release.approved ? 'completed' : 'rejected', release.approved ? `Version ${mv.version} is @production` : `Version ${mv.version} was rejected`);
  return { modelName: input.modelName, version: mv.version, metrics: trained.metrics, release };
}
