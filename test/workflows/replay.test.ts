// Histories recorded from real runs (test/fixtures/histories) must replay on the current workflow code:
// a non-deterministic change to a workflow fails here before it breaks running workflows.
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../workers/plugins.js';
import { loadHistories } from '../setup/histories.js';

describe('workflow replay', () => {
  it('replays every recorded history without nondeterminism', async () => {
    const histories = await loadHistories();
    expect(histories.length).toBeGreaterThan(0);
    const results = Worker.runReplayHistories(
      { workflowsPath: WORKFLOWS_PATH },
      histories.map((h) => ({ workflowId: h.workflowId, history: h.history })),
    );
    const failures: string[] = [];
    for await (const r of results) if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
    expect(failures).toEqual([]);
  });
});
