// Named activity option presets with explicit retry policies; business errors are never retried.
import type { ActivityOptions } from '@temporalio/workflow';
import { workflowInfo } from '@temporalio/workflow';
import { NON_RETRYABLE_ERRORS } from '../lib/errors.js';
import { trainQueueFor } from '../lib/task-queues.js';

const retry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERRORS],
};

/** Database and registry calls: quick, retried a few times. */
export const SHORT_IO: ActivityOptions = { startToCloseTimeout: '30s', retry };

/** Reading and writing data files: minutes, heartbeating progress. */
export const LONG_IO: ActivityOptions = { startToCloseTimeout: '30m', heartbeatTimeout: '1m', retry };

/**
 * CPU-heavy work on the derived train queue, heartbeating so a dead worker is noticed within a minute.
 * `heartbeatTimeout` overrides that minute for one run (TrainingInput.heartbeatTimeout; tests use a few seconds).
 */
export function longCpu(overrides: { heartbeatTimeout?: ActivityOptions['heartbeatTimeout'] } = {}): ActivityOptions {
  return { startToCloseTimeout: '2h', heartbeatTimeout: overrides.heartbeatTimeout ?? '1m', retry, taskQueue: trainQueueFor(workflowInfo().taskQueue) };
}
