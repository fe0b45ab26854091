// Ingestion stage: one source in, one immutable dataset version out.
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { createIngestionActivities } from '../activities/ingestion.js';
import type { IngestionInput, IngestionResult } from '../lib/data/types.js';
import { LONG_IO } from './activity-options.js';
import { DATASET, STAGE } from './search-attributes.js';

const { ingestCsv } = proxyActivities<ReturnType<typeof createIngestionActivities>>(LONG_IO);

export async function ingestionWorkflow(input: IngestionInput): Promise<IngestionResult> {
  upsertSearchAttributes([
    { key: DATASET, value: input.name },
    { key: STAGE, value: 'ingestion' },
  ]);
  return ingestCsv(input);
}
