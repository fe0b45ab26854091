// Worker threads whose entry is a TypeScript module: every thread starts at thread-boot.mjs, which loads the entry
// through tsx whatever loader (or none) the parent runs under.
import { Worker } from 'node:worker_threads';

const BOOT = new URL('./thread-boot.mjs', import.meta.url);

/** Starts a thread running `entry`; `data` reaches it as `workerData` (beside `entry`). */
export function startTsThread(entry: URL, data: Record<string, unknown> = {}): Worker {
  return new Worker(BOOT, { workerData: { ...data, entry: entry.href } });
}
