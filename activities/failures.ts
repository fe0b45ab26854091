// Maps domain errors to Temporal failures: user-fixable errors are non-retryable, everything else retries.
import { ApplicationFailure } from '@temporalio/common';
import { MlcycleError, NON_RETRYABLE_ERRORS } from '../lib/errors.js';

const NON_RETRYABLE = new Set<string>(NON_RETRYABLE_ERRORS);

/** Runs `fn`; a non-retryable domain error is rethrown as a non-retryable ApplicationFailure of the same type. */
export async function withFailureMapping<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MlcycleError && NON_RETRYABLE.has(err.name)) {
      throw ApplicationFailure.create({ type: err.name, message: err.message, nonRetryable: true, cause: err });
    }
    throw err;
  }
}
