// Side-by-side metrics of two versions of a model: training metrics and, when evaluated, gate-evaluation metrics.
import type { Db } from '../storage/db.js';
import { getModelVersion } from './registry.js';
import type { MetricComparison } from './types.js';

function compare(a: Record<string, number | null>, b: Record<string, number | null>): MetricComparison[] {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return names.map((metric) => {
    const va = typeof a[metric] === 'number' ? a[metric] : null;
    const vb = typeof b[metric] === 'number' ? b[metric] : null;
    return { metric, a: va, b: vb, diff: va !== null && vb !== null ? vb - va : null };
  });
}

async function evaluationMetrics(db: Db, modelName: string, version: number): Promise<Record<string, number | null>> {
  const { rows } = await db.query<{ metrics: Record<string, number | null> }>('select metrics from release_evaluations where model_name = $1 and version = $2', [modelName, version]);
  return rows[0]?.metrics ?? {};
}

/**
 * Compares versions `a` and `b` (diff = b - a). Evaluation metrics are each version on its own
 * evaluation set: comparable only when both were evaluated on the same rows (the champion gate does that).
 */
export async function compareVersions(db: Db, modelName: string, a: number, b: number) {
  const [va, vb] = await Promise.all([getModelVersion(db, modelName, a), getModelVersion(db, modelName, b)]);
  const [ea, eb] = await Promise.all([evaluationMetrics(db, modelName, a), evaluationMetrics(db, modelName, b)]);
  return {
    modelName,
    a,
    b,
    sameEvaluationSet: va.evaluationUri !== null && va.evaluationUri === vb.evaluationUri,
    training: compare(va.metrics, vb.metrics),
    evaluation: compare(ea, eb),
  };
}
