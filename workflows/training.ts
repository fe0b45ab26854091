// Training stage: train -> ONNX parity -> register the version -> hand it to the release stage (a child workflow).
import { ApplicationFailure, startChild, defineQuery, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo, ParentClosePolicy } from '@temporalio/workflow';
import type { createRegistryActivities } from '../activities/registry.js';
import type { createTrainingActivities } from '../activities/training.js';
import type { TrialOutcome } from '../lib/training/train.js';
import { DEFAULT_GBDT_PARAMS } from '../lib/training/gbdt/params.js';
import { withParam } from '../lib/training/params.js';
import { budgetParam, configurations, halvingRungs, rankTrials, validateSearch, type TrialParams } from '../lib/training/search.js';
import { DEFAULT_TRAINING_PARAMS, type TrainingInput, type TrainingParams, type TrainingResult, type TrainingStage, type TrainingStatus, type TrialSummary } from '../lib/training/types.js';
import { longCpu, SHORT_IO } from './activity-options.js';
import { releaseWorkflow, releaseWorkflowId } from './release.js';
import { MODEL_NAME, MODEL_VERSION, STAGE } from './search-attributes.js';

export const statusQuery = defineQuery<TrainingStatus>('status');

const registry = proxyActivities<ReturnType<typeof createRegistryActivities>>(SHORT_IO);

export async function trainingWorkflow(input: TrainingInput): Promise<TrainingResult> {
  const { trainModel, checkOnnxParity, runTrial } = proxyActivities<ReturnType<typeof createTrainingActivities>>(longCpu({ heartbeatTimeout: input.heartbeatTimeout }));
  const runId = workflowInfo().workflowId;
  const status: TrainingStatus = { stage: 'training', modelName: input.modelName };
  const enter = (stage: TrainingStage, details: string) => {
    status.stage = stage;
    upsertSearchAttributes([{ key: STAGE, value: stage }]);
    setCurrentDetails(details);
  };
  setHandler(statusQuery, () => status);

  upsertSearchAttributes([{ key: MODEL_NAME, value: input.modelName }]);
  let trainInput = input;
  if (input.search) {
    enter('searching', `Searching hyperparameters (${input.search.strategy}) for **${input.modelName}**`);
    const best = await search(input, runId, runTrial, status);
    status.bestTrial = best;
    let params: Partial<TrainingParams> = { ...input.params };
    for (const [name, value] of Object.entries(best.params)) params = withParam(params, name, value);
    trainInput = { ...input, params };
  }
  enter('training', `Training **${input.modelName}** on dataset \`${input.datasetVersionId}\``);
  const trained = await trainModel(runId, trainInput);
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
    args: [{ modelName: input.modelName, version: mv.version, trainingRunId: runId, startedBy: input.startedBy, approval: input.approval, rollout: input.rollout }],
    staticSummary: `Release ${input.modelName} v${mv.version}`,
    // An approver may still be deciding when someone cancels the training run; the release stands alone.
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  // Published only once the child exists, so whoever reads the id can query it.
  status.releaseWorkflowId = releaseId;
  enter('releasing', `Version ${mv.version} is in release workflow \`${releaseId}\`, which waits for approval`);
  const release = await child.result();
  if (release.approved) enter('completed', `Version ${mv.version} is @production`);
  else if (release.gates?.passed === false) enter('gates_failed', `Version ${mv.version} failed its release gates; see its report`);
  else enter('rejected', `Version ${mv.version} was rejected`);
  return { modelName: input.modelName, version: mv.version, metrics: trained.metrics, release, bestTrial: status.bestTrial };
}

type RunTrial = ReturnType<typeof createTrainingActivities>['runTrial'];

/**
 * Runs the search: every trial is an activity on the train queue, started together so they fan out
 * across training workers. Grid and random run one rung; successive halving keeps the best 1/eta of
 * each rung and multiplies the budget by eta. Returns the best trial by the validation metric.
 */
async function search(input: TrainingInput, runId: string, runTrial: RunTrial, status: TrainingStatus): Promise<TrialSummary> {
  const spec = input.search!;
  const learner = input.params?.learner ?? DEFAULT_TRAINING_PARAMS.learner;
  try {
    validateSearch(spec, { learner });
  } catch (err) {
    throw ApplicationFailure.create({ type: 'ValidationError', message: (err as Error).message, nonRetryable: true });
  }
  const seed = input.params?.seed ?? DEFAULT_TRAINING_PARAMS.seed;
  let configs: TrialParams[] = configurations(spec, seed);
  let rungs: Array<{ configs: number; budget?: number }> = [{ configs: configs.length }];
  let budgetName: string | undefined;
  if (spec.strategy === 'halving') {
    budgetName = budgetParam({ learner });
    const maxBudget = learner === 'gbdt' ? (input.params?.gbdt?.numIterations ?? DEFAULT_GBDT_PARAMS.numIterations) : (input.params?.maxIterations ?? DEFAULT_TRAINING_PARAMS.maxIterations);
    const eta = spec.eta ?? 3;
    const steps = Math.max(0, Math.ceil(Math.log(configs.length) / Math.log(eta)));
    const minBudget = spec.minBudget ?? Math.max(1, Math.floor(maxBudget / eta ** steps));
    rungs = halvingRungs(configs.length, eta, minBudget, maxBudget);
  }
  status.trialsTotal = rungs.reduce((s, r) => s + r.configs, 0);
  status.trialsDone = 0;
  let ranked: TrialOutcome[] = [];
  for (let r = 0; r < rungs.length; r++) {
    configs = configs.slice(0, rungs[r].configs);
    const budget = budgetName !== undefined && rungs[r].budget !== undefined ? { name: budgetName, value: rungs[r].budget! } : undefined;
    const outcomes = await Promise.all(
      configs.map(async (params, i) => {
        const outcome = await runTrial({ runId, trialId: `${runId}.r${r}t${i}`, input, params, rung: r, budget, bestScore: status.bestTrial?.score });
        status.trialsDone!++;
        const summary = { trialId: outcome.trialId, params: outcome.params, score: outcome.score, metric: outcome.metric, rung: r };
        if (!Number.isNaN(outcome.score) && (!status.bestTrial || rankTrials([outcome, { ...status.bestTrial, higherIsBetter: outcome.higherIsBetter }])[0] === outcome)) {
          status.bestTrial = summary;
        }
        setCurrentDetails(`Search: ${status.trialsDone}/${status.trialsTotal} trials, best ${status.bestTrial?.metric ?? ''} ${status.bestTrial?.score ?? 'n/a'}`);
        return outcome;
      }),
    );
    ranked = rankTrials(outcomes);
    configs = ranked.map((o) => o.params);
  }
  const best = ranked[0];
  if (Number.isNaN(best.score)) throw ApplicationFailure.create({ type: 'ValidationError', message: `No trial produced a value for ${best.metric} on the validation rows.`, nonRetryable: true });
  return { trialId: best.trialId, params: best.params, score: best.score, metric: best.metric, rung: best.rung };
}
