// Task queue naming: the CPU-heavy queue is always derived from the orchestration queue, so the two never drift apart.

/** `mlcycle` -> { orchestration: 'mlcycle', train: 'mlcycle-train' }. Workflows use the same rule. */
export function taskQueues(orchestration: string): { orchestration: string; train: string } {
  return { orchestration, train: trainQueueFor(orchestration) };
}

export function trainQueueFor(orchestrationQueue: string): string {
  return `${orchestrationQueue}-train`;
}
