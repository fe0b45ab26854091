// Runs the ingestion pipeline over a CSV written to a scratch file and reads the stored version back,
// shared by the unit tests (no database) and the key-index tests (Postgres).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { parseContract } from '../../../lib/data/contract.js';
import { runPipeline, type PipelineInput } from '../../../lib/data/ingest.js';
import { openSource } from '../../../lib/data/sources.js';
import type { ArtifactStore } from '../../../lib/storage/artifacts.js';
import type { Db } from '../../../lib/storage/db.js';

export interface PipelineFixture {
  /** Where the CSV files are written. */
  dir: string;
  artifacts: ArtifactStore;
  /** Needed for dedup and unique keys. */
  db?: Db;
}

export async function runCsvPipeline(fixture: PipelineFixture, csv: string, contract?: unknown, extra: Partial<PipelineInput> = {}, batchSize = 4) {
  const p = path.join(fixture.dir, `${Math.random().toString(36).slice(2)}.csv`);
  await writeFile(p, csv);
  const source = await openSource(p, { batchSize });
  const result = await runPipeline({
    artifacts: fixture.artifacts,
    db: fixture.db,
    runId: 'run-1',
    datasetName: 'ds',
    sourceUri: p,
    source,
    contract: contract === undefined ? undefined : parseContract(contract),
    contractVersion: contract === undefined ? null : 1,
    now: Date.UTC(2024, 0, 2),
    ...extra,
  });
  const table: Table | undefined = result.artifact ? tableFromIPC(await fixture.artifacts.get(result.artifact.uri)) : undefined;
  return { ...result, table };
}

/** A column's values, row by row. */
export const rowsOf = (t: { numRows: number; getChild(n: string): { get(i: number): unknown } | null }, col: string) =>
  Array.from({ length: t.numRows }, (_, i) => t.getChild(col)!.get(i));
