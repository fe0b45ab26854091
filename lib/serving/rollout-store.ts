// Reading recorded rollout steps (table rollout_steps, written by the rollout activities) for the API.
import type { Db } from '../storage/db.js';
import type { RolloutStep } from './rollout.js';

/** Recorded steps of a model's rollouts, newest first; narrowed to one rollout id and one of its runs when given. */
export async function listRolloutSteps(db: Db, modelName: string, rolloutId?: string, runId?: string): Promise<Array<RolloutStep & { rolloutId: string }>> {
  const { rows } = await db.query<{ rollout_id: string; seq: number; kind: RolloutStep['kind']; percent: number | null; verdict: RolloutStep['verdict']; decision: string; analysis: RolloutStep['analysis']; approval: RolloutStep['approval'] | null; at: Date }>(
    `select rollout_id, seq, kind, percent, verdict, decision, analysis, approval, at from rollout_steps
      where model_name = $1 and ($2::text is null or rollout_id = $2) and ($3::text is null or run_id = $3) order by at desc, seq desc`,
    [modelName, rolloutId ?? null, runId ?? null],
  );
  return rows.map((r) => ({
    rolloutId: r.rollout_id,
    seq: r.seq,
    kind: r.kind,
    percent: r.percent,
    verdict: r.verdict,
    decision: r.decision,
    analysis: r.analysis,
    ...(r.approval ? { approval: r.approval } : {}),
    at: new Date(r.at).toISOString(),
  }));
}
