// mlcycle as Temporal plugins: one per lifecycle stage, one bundle for the orchestration queue,
// one for the CPU-heavy train queue. Add them to your own Worker.create({ plugins }).
import { fileURLToPath } from 'node:url';
import { SimplePlugin } from '@temporalio/plugin';
import type { ActivityDeps } from '../activities/deps.js';
import { createBatchScoringActivities, createBatchScoringComputeActivities } from '../activities/batch-scoring.js';
import { createFeatureActivities } from '../activities/features.js';
import { createIngestionActivities } from '../activities/ingestion.js';
import { createMonitoringActivities } from '../activities/monitoring.js';
import { createRegistryActivities } from '../activities/registry.js';
import { createReleaseActivities } from '../activities/release.js';
import { createRolloutActivities } from '../activities/rollout.js';
import { createTrainingActivities } from '../activities/training.js';

/**
 * Every stage plugin sets this same entry: SimplePlugin replaces `workflowsPath`
 * rather than merging it, so the entry must re-export every stage's workflows.
 */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * The light activities of each lifecycle stage, hosted on the orchestration queue. The stage plugins
 * and the bundle are both derived from this one table, so a new activity set is listed once.
 */
const STAGE_ACTIVITIES = {
  ingestion: createIngestionActivities,
  features: createFeatureActivities,
  release: createRegistryActivities,
  serving: (deps: ActivityDeps) => ({ ...createRolloutActivities(deps), ...createBatchScoringActivities(deps) }),
  monitoring: createMonitoringActivities,
} satisfies Record<string, (deps: ActivityDeps) => object>;

type Stage = keyof typeof STAGE_ACTIVITIES;

/** One stage on the orchestration queue: its activities plus every workflow (see WORKFLOWS_PATH). */
function stagePlugin(stage: Stage, deps: ActivityDeps): SimplePlugin {
  return new SimplePlugin({ name: `mlcycle.${stage}`, workflowsPath: WORKFLOWS_PATH, activities: STAGE_ACTIVITIES[stage](deps) });
}

/** Ingestion stage: sources into dataset versions. */
export const ingestionPlugin = (deps: ActivityDeps) => stagePlugin('ingestion', deps);
/** Feature store: training frames and materialization. */
export const featuresPlugin = (deps: ActivityDeps) => stagePlugin('features', deps);
/** Release stage: registry writes, decisions, reminders, alias moves. */
export const releasePlugin = (deps: ActivityDeps) => stagePlugin('release', deps);
/** Serving stage: rollouts and batch scoring orchestration. */
export const servingPlugin = (deps: ActivityDeps) => stagePlugin('serving', deps);
/** Monitoring stage: reports, alerts, retraining triggers. */
export const monitoringPlugin = (deps: ActivityDeps) => stagePlugin('monitoring', deps);

/** Training compute (train queue): fitting, ONNX export and the parity check, the release gates' evaluation, and batch scoring. No workflows. */
export function trainingComputePlugin(deps: ActivityDeps): SimplePlugin {
  return new SimplePlugin({ name: 'mlcycle.training-compute', activities: { ...createTrainingActivities(deps), ...createReleaseActivities(deps), ...createBatchScoringComputeActivities(deps) } });
}

/** Everything the orchestration queue (`mlcycle`) hosts: all workflows and every stage's light activities. */
export function mlcyclePlugin(deps: ActivityDeps): SimplePlugin {
  const activities = Object.assign({}, ...Object.values(STAGE_ACTIVITIES).map((create) => create(deps))) as object;
  return new SimplePlugin({ name: 'mlcycle', workflowsPath: WORKFLOWS_PATH, activities });
}
