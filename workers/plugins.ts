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

/** Ingestion stage (orchestration queue): CSV sources into dataset versions. */
export function ingestionPlugin(deps: ActivityDeps): SimplePlugin {
  return new SimplePlugin({ name: 'mlcycle.ingestion', workflowsPath: WORKFLOWS_PATH, activities: createIngestionActivities(deps) });
}

/** Release stage (orchestration queue): registry writes and alias moves after approval. */
export function releasePlugin(deps: ActivityDeps): SimplePlugin {
  return new SimplePlugin({ name: 'mlcycle.release', workflowsPath: WORKFLOWS_PATH, activities: createRegistryActivities(deps) });
}

/** Training compute (train queue): fitting, ONNX export and the parity check, the release gates' evaluation, and batch scoring. No workflows. */
export function trainingComputePlugin(deps: ActivityDeps): SimplePlugin {
  return new SimplePlugin({ name: 'mlcycle.training-compute', activities: { ...createTrainingActivities(deps), ...createReleaseActivities(deps), ...createBatchScoringComputeActivities(deps) } });
}

/** Everything the orchestration queue (`mlcycle`) hosts: all workflows and the light activities. */
export function mlcyclePlugin(deps: ActivityDeps): SimplePlugin {
  return new SimplePlugin({
    name: 'mlcycle',
    workflowsPath: WORKFLOWS_PATH,
    activities: { ...createIngestionActivities(deps), ...createRegistryActivities(deps), ...createMonitoringActivities(deps), ...createBatchScoringActivities(deps), ...createRolloutActivities(deps), ...createFeatureActivities(deps) },
  });
}
