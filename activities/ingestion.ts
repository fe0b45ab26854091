// Ingestion activities: read a source once, under its contract, into an immutable dataset version.
import { Context, heartbeat } from '@temporalio/activity';
import { ingestDataset } from '../lib/data/datasets.js';
import type { IngestionInput, IngestionResult } from '../lib/data/types.js';
import type { ActivityDeps } from './deps.js';
import { withFailureMapping } from './failures.js';

export function createIngestionActivities(deps: ActivityDeps) {
  return {
    /**
     * Reads, checks, dedups, stores and commits one version, heartbeating rows read and quarantined.
     * Idempotent: a retry restarts the run under the same run id (its quarantine is replaced) and
     * finds the version by its content hash; a crash before the commit leaves no version row.
     */
    async ingestSource(input: IngestionInput): Promise<IngestionResult> {
      const runId = input.runId ?? Context.current().info.workflowExecution?.workflowId ?? Context.current().info.activityId;
      return withFailureMapping(() => ingestDataset(deps, { ...input, runId }, (progress) => heartbeat(progress)));
    },
  };
}
