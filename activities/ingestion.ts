// Ingestion activities: read a source once into an immutable dataset version.
import { heartbeat } from '@temporalio/activity';
import { ingestDataset } from '../lib/data/datasets.js';
import type { IngestionInput, IngestionResult } from '../lib/data/types.js';
import type { ActivityDeps } from './deps.js';
import { withFailureMapping } from './failures.js';

export function createIngestionActivities(deps: ActivityDeps) {
  return {
    /** Idempotent: a retry after a crash finds the version by its content hash. */
    async ingestCsv(input: IngestionInput): Promise<IngestionResult> {
      return withFailureMapping(() => ingestDataset(deps, input, (rowsRead) => heartbeat({ rowsRead })));
    },
  };
}
