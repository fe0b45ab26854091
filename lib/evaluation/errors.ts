// Named evaluation errors; the class name doubles as the Temporal failure type.
// (Candidates for lib/errors.ts once that module exists.)

/** The inputs are malformed: wrong lengths, labels out of range, NaN scores. Fix the caller. */
export class EvaluationInputError extends Error {
  override readonly name = 'EvaluationInputError';
}

/**
 * The metric has no value on this data (e.g. ROC AUC when y_true holds a single class).
 * Thrown instead of returning NaN so that a gate can never pass on a silent NaN.
 */
export class UndefinedMetricError extends Error {
  override readonly name = 'UndefinedMetricError';
}
