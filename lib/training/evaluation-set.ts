// Builds a version's evaluation set (Arrow IPC: the signature's feature columns and `__label`) from a dataset
// version, for models registered without a training run here (uploads). The release gates score it.
import { makeVector, Table, tableToIPC, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { loadDatasetTable } from '../data/datasets.js';
import { ValidationError } from '../errors.js';
import type { ArtifactStore, StoredArtifact } from '../storage/artifacts.js';
import type { Db } from '../storage/db.js';
import { LABEL_COLUMN } from './train.js';
import type { ModelSignature } from './types.js';

export async function buildEvaluationSet(
  deps: { db: Db; artifacts: ArtifactStore },
  datasetVersionId: string,
  target: string,
  signature: ModelSignature,
): Promise<StoredArtifact & { rows: number }> {
  const { table } = await loadDatasetTable(deps, datasetVersionId);
  const names = table.schema.fields.map((f) => f.name);
  for (const name of [target, ...signature.features.map((f) => f.name)]) {
    if (!names.includes(name)) throw new ValidationError(`Evaluation dataset ${datasetVersionId} has no column ${JSON.stringify(name)}; its columns are ${names.join(', ')}.`);
  }
  const targetVector = table.getChild(target)!;
  const rows: number[] = [];
  for (let i = 0; i < table.numRows; i++) if (targetVector.get(i) !== null) rows.push(i);
  if (rows.length === 0) throw new ValidationError(`Evaluation dataset ${datasetVersionId} has no rows with a value for ${JSON.stringify(target)}.`);
  const columns: Record<string, Vector> = {};
  for (const f of signature.features) {
    const v = table.getChild(f.name)!;
    columns[f.name] =
      f.type === 'string'
        ? vectorFromArray(rows.map((i) => (v.get(i) === null ? null : String(v.get(i)))), new Utf8())
        : makeVector(Float32Array.from(rows, (i) => (v.get(i) === null ? Number.NaN : Number(v.get(i)))));
  }
  if (signature.task === 'regression') {
    columns[LABEL_COLUMN] = makeVector(Float64Array.from(rows, (i) => Number(targetVector.get(i))));
  } else {
    const index = new Map(signature.classes.map((c, k) => [String(c), k]));
    columns[LABEL_COLUMN] = makeVector(
      Int32Array.from(rows, (i) => {
        const k = index.get(String(targetVector.get(i)));
        if (k === undefined) {
          throw new ValidationError(`Evaluation dataset row ${i}: ${JSON.stringify(target)} is ${JSON.stringify(targetVector.get(i))}, which is not one of the signature's classes (${signature.classes.map((c) => JSON.stringify(c)).join(', ')}).`);
        }
        return k;
      }),
    );
  }
  const stored = await deps.artifacts.put(tableToIPC(new Table(columns), 'file'));
  return { ...stored, rows: rows.length };
}
