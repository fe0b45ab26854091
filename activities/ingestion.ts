// Ingestion activities: read a source once, under its contract, into an immutable dataset version.
import { Context } from '@temporalio/activity';
import { ingestDataset, type IngestProgress } from '../lib/data/datasets.js';
import type { IngestionInput, IngestionResult } from '../lib/data/types.js';
import type { ActivityDeps } from './deps.js';
import { withFailureMapping } from './failures.js';
import { withHeartbeats } from './heartbeat.js';

export function createIngestionActivities(deps: ActivityDeps) {
  return {
    /**
     * Reads, checks, dedups, stores and commits one version, heartbeating rows read and quarantined after every
     * batch and, on a timer, during the steps that read no rows (resolving duplicates in SQL, profiling,
     * committing), so only a dead worker misses its heartbeat timeout.
     * Idempotent: a retry restarts the run under the same run id (its quarantine is replaced, the dead
     * attempt's temp files removed) and finds the version by its content hash; a crash before the commit
     * leaves no version row.
     */
    async ingestSource(input: IngestionInput): Promise<IngestionResult> {
      const ctx = Context.current();
      const runId = input.runId ?? ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId;
      let progress: IngestProgress = { rowsRead: 0, rowsQuarantined: 0 };
      return withHeartbeats(
        () => progress,
        () =>
          withFailureMapping(() =>
            ingestDataset(deps, { ...input, runId }, (p) => {
              progress = p;
              ctx.heartbeat(p);
            }),
          ),
      );
    },
  };
}
