// Evaluation's named errors live with the other domain errors; re-exported for the evaluation entry point.
export { EvaluationInputError, UndefinedMetricError } from '../errors.js';
