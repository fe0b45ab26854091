// Batch scoring's pure parts: where a retried attempt resumes, Arrow columns as scoring input, the scored part's schema;
// and a dataset version read batch by batch, cut to the run's batch size.
import { makeVector, Table, tableFromArrays, tableToIPC, vectorFromArray, Utf8 } from 'apache-arrow';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrowToColumns, datasetBatches, predictionColumns, resumePoint, scoredTable, type BatchScoringPlan } from '../../../lib/serving/batch-scoring.js';
import { ArtifactStore } from '../../../lib/storage/artifacts.js';
import type { ModelSignature } from '../../../lib/training/types.js';

const signature: ModelSignature = {
  inputName: 'features',
  inputs: [
    { name: 'features', type: 'float', features: ['x'] },
    { name: 'c', type: 'string', features: ['c'] },
  ],
  features: [
    { name: 'x', type: 'float' },
    { name: 'c', type: 'string' },
  ],
  outputs: { label: 'label', probabilities: 'probabilities' },
  classes: ['no', 'yes'],
};

describe('resumePoint', () => {
  const set = (...xs: number[]) => new Set(xs);
  it('starts at 0 with nothing committed and no heartbeat', () => {
    expect(resumePoint(5, set())).toBe(0);
  });
  it('resumes at the heartbeat when the parts below it are committed', () => {
    expect(resumePoint(5, set(0, 1, 2), 3)).toBe(3);
  });
  it('moves past parts committed after the last heartbeat that arrived (heartbeats are throttled)', () => {
    expect(resumePoint(5, set(0, 1, 2, 3), 1)).toBe(4);
    expect(resumePoint(5, set(0, 1), undefined)).toBe(2);
  });
  it('redoes a batch the heartbeat claims but whose part is missing', () => {
    expect(resumePoint(5, set(0, 2), 3)).toBe(1);
  });
  it('is done when every batch is committed, whatever the heartbeat says', () => {
    expect(resumePoint(3, set(0, 1, 2), 99)).toBe(3);
  });
});

describe('arrowToColumns', () => {
  it('gives float32 with NaN for null and strings with null, as online rows do', () => {
    const table = new Table({
      x: vectorFromArray([1.5, null, 3], undefined),
      c: vectorFromArray(['a', null, 'b'], new Utf8()),
    });
    const cols = arrowToColumns(table.slice(1, 3), signature);
    expect(Array.from(cols.x as Float32Array)).toEqual([Number.NaN, 3]);
    expect(cols.c).toEqual([null, 'b']);
    const noNulls = arrowToColumns(tableFromArrays({ x: Float64Array.of(0.1, 2), c: ['u', 'v'] }), signature);
    expect(noNulls.x).toEqual(Float32Array.of(0.1, 2));
  });
});

describe('scoredTable', () => {
  it('holds the row index, the key columns and one column per prediction output', () => {
    const batch = new Table({ id: makeVector(Float64Array.of(10, 11)), x: makeVector(Float64Array.of(1, 2)) });
    const t = scoredTable(batch, 40, ['id'], signature, { labels: ['no', 'yes'], probabilities: Float32Array.of(0.75, 0.25, 0.5, 0.5) });
    expect(t.schema.fields.map((f) => f.name)).toEqual(['row_index', 'id', ...predictionColumns(signature)]);
    expect(t.toArray().map((r) => r.toJSON())).toEqual([
      { row_index: 40, id: 10, label: 'no', probability_no: 0.75, probability_yes: 0.25 },
      { row_index: 41, id: 11, label: 'yes', probability_no: 0.5, probability_yes: 0.5 },
    ]);
  });

  it('gives a regressor one prediction column', () => {
    const reg: ModelSignature = { ...signature, task: 'regression', classes: ['prediction'], outputs: { label: 'v', probabilities: 'v' } };
    const t = scoredTable(new Table({ x: makeVector(Float64Array.of(1)) }), 0, [], reg, { labels: [2.5], probabilities: Float32Array.of(2.5) });
    expect(t.toArray().map((r) => r.toJSON())).toEqual([{ row_index: 0, prediction: 2.5 }]);
  });
});

describe('datasetBatches', () => {
  it("cuts a version's record batches to the run's batch size, from any batch on, and checks the row count", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mlcycle-batches-'));
    try {
      const artifacts = new ArtifactStore(dir);
      // Three record batches in the file (7, 5 and 11 rows), as ingestion writes a version in several.
      const sizes = [7, 5, 11];
      let next = 0;
      const file = new Table(sizes.flatMap((n) => tableFromArrays({ id: Int32Array.from({ length: n }, () => next++) }).batches));
      const { uri } = await artifacts.put(tableToIPC(file, 'file'));
      const plan = (batchRows: number, rows = 23) => ({ datasetVersionId: 'v', datasetUri: uri, batchRows, rows, batches: Math.ceil(rows / batchRows) }) as BatchScoringPlan;
      const read = async (p: BatchScoringPlan, start: number) => {
        const out: Array<{ index: number; firstRow: number; ids: number[] }> = [];
        for await (const b of datasetBatches(artifacts, p, start)) out.push({ index: b.index, firstRow: b.firstRow, ids: [...b.table.getChild('id')!.toArray()] });
        return out;
      };
      const all = await read(plan(4), 0);
      expect(all.map((b) => b.ids.length)).toEqual([4, 4, 4, 4, 4, 3]);
      expect(all.flatMap((b) => b.ids)).toEqual(Array.from({ length: 23 }, (_, i) => i));
      expect(all.map((b) => b.firstRow)).toEqual([0, 4, 8, 12, 16, 20]);
      // A resumed attempt starts at its batch, whichever record batch that falls in.
      expect(await read(plan(4), 3)).toEqual(all.slice(3));
      expect((await read(plan(10), 2)).map((b) => b.ids)).toEqual([[20, 21, 22]]);
      await expect(read(plan(4, 24), 0)).rejects.toThrow('has 23 rows; the run was planned for 24');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
