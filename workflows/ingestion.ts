// Ingestion stage: one source in, checked against its contract, one immutable dataset version out.
import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { createIngestionActivities } from '../activities/ingestion.js';
import type { IngestionInput, IngestionResult } from '../lib/data/types.js';
import { LONG_IO } from './activity-options.js';
import { DATASET, STAGE } from './search-attributes.js';

/** The run id (for the report and quarantine) is the workflow id, so scheduled runs get one too. */
export async function ingestionWorkflow(input: IngestionInput): Promise<IngestionResult> {
  const { ingestSource } = proxyActivities<ReturnType<typeof createIngestionActivities>>({
    ...LONG_IO,
    heartbeatTimeout: input.heartbeatTimeout ?? LONG_IO.heartbeatTimeout,
  });
  upsertSearchAttributes([
    { key: DATASET, value: input.name },
    { key: STAGE, value: 'ingestion' },
  ]);
  return ingestSource({ ...input, runId: input.runId ?? workflowInfo().workflowId });
}
