// Keeps an activity alive while it runs steps that report no progress of their own (a SQL join, a
// profile pass, a commit): heartbeats the latest details on a timer sized from the heartbeat timeout.
import { Context } from '@temporalio/activity';

/** How often to heartbeat when the activity has no heartbeat timeout of its own. */
const DEFAULT_EVERY_MS = 10_000;

/**
 * Runs `fn`, heartbeating `details()` at once and then every third of the heartbeat timeout (room for a
 * late timer; the SDK throttles what reaches the server). `fn` may heartbeat too, through the context.
 */
export async function withHeartbeats<T>(details: () => unknown, fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat(details());
  const timeout = ctx.info.heartbeatTimeoutMs;
  const timer = setInterval(() => ctx.heartbeat(details()), timeout ? Math.max(100, Math.floor(timeout / 3)) : DEFAULT_EVERY_MS);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
