// Batch scoring activities: planning and failure records (orchestration queue, short I/O), and scoring and
// assembly (train queue, CPU-heavy). Scoring heartbeats `{ nextBatch, batches }` after every committed batch;
// a retried attempt reads it back and resumes there (checked against the committed parts).
import { Context, heartbeat } from '@temporalio/activity';
import {
  assembleResult,
  failRun,
  planBatchScoring,
  recordPlan,
  scoreBatches,
  startRun,
  type BatchScoringInput,
  type BatchScoringPlan,
  type BatchScoringResult,
} from '../lib/serving/batch-scoring.js';
import type { ActivityDeps } from './deps.js';
import { withFailureMapping } from './failures.js';

/** What `scoreBatches` heartbeats, and reads back on a retried attempt. */
export interface BatchScoringHeartbeat {
  nextBatch: number;
  batches: number;
}

/**
 * Test hooks, called in the worker's process: `onStart` with the attempt and where it resumes, `afterBatch`
 * after each committed batch (throwing there fails the attempt, as a crash mid-run would). Unset in production.
 */
export const batchScoringTestHooks: {
  onStart?: (info: { runId: string; attempt: number; heartbeat: BatchScoringHeartbeat | undefined; startBatch: number }) => void;
  afterBatch?: (info: { runId: string; attempt: number; batchIndex: number }) => void;
} = {};

export function createBatchScoringActivities(deps: ActivityDeps) {
  return {
    /** Records the run and fixes what it scores (alias resolved once). Idempotent per run id. */
    async prepareBatchScoring(runId: string, input: BatchScoringInput): Promise<BatchScoringPlan> {
      return withFailureMapping(async () => {
        await startRun(deps.db, runId, input);
        const plan = await planBatchScoring(deps.db, runId, input);
        await recordPlan(deps.db, plan);
        return plan;
      });
    },
    /** Marks the run failed with the reason (a completed run stays completed). */
    async failBatchScoring(runId: string, error: string): Promise<void> {
      await failRun(deps.db, runId, error);
    },
  };
}

export function createBatchScoringComputeActivities(deps: ActivityDeps) {
  return {
    /** Scores every batch not yet committed, heartbeating after each; resumes from the last heartbeat on retry. */
    async scoreBatches(plan: BatchScoringPlan): Promise<{ startBatch: number; scored: number }> {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      const previous = ctx.info.heartbeatDetails as BatchScoringHeartbeat | undefined;
      return withFailureMapping(() =>
        scoreBatches(deps, plan, {
          heartbeatNext: previous?.nextBatch,
          signal: ctx.cancellationSignal,
          onStart: ({ startBatch }) => {
            batchScoringTestHooks.onStart?.({ runId: plan.runId, attempt, heartbeat: previous, startBatch });
            heartbeat({ nextBatch: startBatch, batches: plan.batches } satisfies BatchScoringHeartbeat);
          },
          onBatch: (p) => {
            heartbeat({ nextBatch: p.nextBatch, batches: p.batches } satisfies BatchScoringHeartbeat);
            batchScoringTestHooks.afterBatch?.({ runId: plan.runId, attempt, batchIndex: p.batchIndex });
          },
        }),
      );
    },
    /** Joins the parts into the result artifact and completes the run record. Idempotent. */
    async assembleBatchScoring(plan: BatchScoringPlan): Promise<BatchScoringResult> {
      heartbeat();
      return withFailureMapping(() => assembleResult(deps, plan));
    },
  };
}
