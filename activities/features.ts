// Feature store activities: materialize a feature view's latest values into the online store, build training frames.
import { Context } from '@temporalio/activity';
import type { FeatureView } from '../lib/features/declaration.js';
import { buildTrainingFrame } from '../lib/features/offline.js';
import { materializeFeatureView } from '../lib/features/online.js';
import { getFeatureView } from '../lib/features/registry.js';
import type { MaterializeInput, MaterializeResult, TrainingFrameRequest, TrainingFrameSummary } from '../lib/features/types.js';
import type { ActivityDeps } from './deps.js';
import { withFailureMapping } from './failures.js';
import { withHeartbeats } from './heartbeat.js';

export function createFeatureActivities(deps: ActivityDeps) {
  return {
    /**
     * Stages the view's source version and writes every entity whose source rows changed to the
     * online store in use, committing digests, watermark and run record in one transaction.
     * Idempotent: a run id that already succeeded returns its recorded result; a retry after a crash
     * before the commit finds the old digests and writes the same values again.
     */
    async materializeFeatures(input: MaterializeInput): Promise<MaterializeResult> {
      const runId = input.runId || (Context.current().info.workflowExecution?.workflowId ?? Context.current().info.activityId);
      return withFailureMapping(() => withHeartbeats(() => ({ view: input.view }), () => materializeFeatureView(deps, { ...input, runId })));
    },

    /**
     * Builds the point-in-time training frame in Postgres and stores it as a dataset version.
     * Idempotent: the frame is content-addressed, so a retry returns the same version.
     */
    async buildFeatureFrame(input: TrainingFrameRequest): Promise<TrainingFrameSummary> {
      const runId = input.runId || (Context.current().info.workflowExecution?.workflowId ?? Context.current().info.activityId);
      return withFailureMapping(async () => {
        const views: FeatureView[] = [];
        for (const name of input.views) views.push((await getFeatureView(deps.db, name)).declaration);
        const { labelsVersionId, timestampColumn, entityColumn, createdTimeGuard, outputName } = input;
        const result = await withHeartbeats(() => ({ views: input.views }), () =>
          buildTrainingFrame(deps, { labelsVersionId, timestampColumn, entityColumn, createdTimeGuard, outputName, views, runId }),
        );
        return {
          datasetVersionId: result.dataset.id,
          datasetName: result.dataset.name,
          rowCount: result.dataset.rowCount,
          created: result.dataset.created,
          featureColumns: result.featureColumns,
          missing: result.missing,
        };
      });
    },
  };
}
