// Release activities: the candidate's gate evaluation (CPU-heavy: scoring, bootstrap, latency), on the train queue.
import { heartbeat } from '@temporalio/activity';
import { evaluateCandidate, type CandidateEvaluation, type EvaluateCandidateInput } from '../lib/release/evaluate.js';
import type { ActivityDeps } from './deps.js';
import { withFailureMapping } from './failures.js';

export function createReleaseActivities(deps: ActivityDeps) {
  return {
    /**
     * Scores the version's evaluation set, runs its model's gates and stores the gate report and the
     * HTML report. Idempotent: a retry recomputes and upserts the same (model, version) row.
     */
    async evaluateCandidate(input: EvaluateCandidateInput): Promise<CandidateEvaluation> {
      return withFailureMapping(() => evaluateCandidate(deps, input, (phase) => heartbeat({ phase })));
    },
  };
}
