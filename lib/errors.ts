// Domain errors. Temporal uses the class name as the failure type, so retry
// policies and the API's error handler can name them.

/** Base class: `name` is the subclass name, so it survives serialisation as the failure type. */
export class MlcycleError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An environment variable or option has a value we cannot use. */
export class ConfigError extends MlcycleError {}

/** A runtime dependency (Postgres, Temporal, the Temporal CLI) could not be reached or started. */
export class StartupError extends MlcycleError {}

/** A data source is missing, unreadable or malformed; the user must fix the input. */
export class DatasetSourceError extends MlcycleError {}

/** Ingested rows breach their data contract above its threshold; the message is the run's report. */
export class DataContractError extends MlcycleError {}

/** Something the caller named does not exist. */
export class NotFoundError extends MlcycleError {}

/** The caller did not say who they are (no API key) or the key is unknown or revoked. */
export class UnauthorizedError extends MlcycleError {}

/** The caller is known but may not do this (e.g. approve their own training run). */
export class ForbiddenError extends MlcycleError {}

/** The request is well-formed but conflicts with current state (e.g. nothing awaits approval). */
export class ConflictError extends MlcycleError {}

/** Input rows or parameters are invalid for this operation. */
export class ValidationError extends MlcycleError {}

/** A stored artifact's bytes no longer match the sha256 it is addressed by. */
export class ArtifactIntegrityError extends MlcycleError {}

/** onnxruntime disagrees with the trainer's own predictions beyond tolerance. */
export class OnnxParityError extends MlcycleError {}

/** The service is protecting itself (a queue is full); the client should retry after `retryAfterSeconds`. */
export class OverloadedError extends MlcycleError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
  }
}

/** A model version did not answer within the serving timeout (and no fallback could answer instead). */
export class ScoringTimeoutError extends MlcycleError {}

/** Evaluation inputs are malformed (wrong lengths, labels out of range, NaN scores); fix the caller. */
export class EvaluationInputError extends MlcycleError {}

/**
 * A metric has no value on this data (e.g. ROC AUC with a single class present).
 * Thrown instead of returning NaN so that a gate can never pass on a silent NaN.
 */
export class UndefinedMetricError extends MlcycleError {}

/** Error types that no retry can fix; activities mark them non-retryable. */
export const NON_RETRYABLE_ERRORS = [
  'ConfigError',
  'DatasetSourceError',
  'DataContractError',
  'NotFoundError',
  'ConflictError',
  'ForbiddenError',
  'ValidationError',
  'ArtifactIntegrityError',
  'OnnxParityError',
  'EvaluationInputError',
  'UndefinedMetricError',
] as const;
