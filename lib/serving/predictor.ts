// Online scoring: resolves a model's production version, keeps one verified onnxruntime session per version.
import { ValidationError } from '../errors.js';
import { createSession, scoreMatrix, type Session } from '../onnx/session.js';
import { getVersionByAlias } from '../registry/registry.js';
import { PRODUCTION_ALIAS, type ModelVersion } from '../registry/types.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import type { Db } from '../storage/db.js';

export type FeatureRow = Record<string, number | null>;

export interface Prediction {
  label: string | number;
  probabilities: Record<string, number>;
}

export interface PredictResult {
  model: string;
  version: number;
  alias: string;
  predictions: Prediction[];
}

/** Converts JSON rows to the model's input matrix; every problem is reported with its row and column. */
export function rowsToMatrix(rows: FeatureRow[], version: Pick<ModelVersion, 'signature'>): Float32Array {
  const features = version.signature.features.map((f) => f.name);
  const known = new Set(features);
  const X = new Float32Array(rows.length * features.length);
  const problems: string[] = [];
  rows.forEach((row, i) => {
    for (const key of Object.keys(row)) if (!known.has(key)) problems.push(`row ${i}: unknown feature ${JSON.stringify(key)}`);
    features.forEach((name, j) => {
      const v = row[name];
      if (v === undefined) problems.push(`row ${i}: missing feature ${JSON.stringify(name)} (send null for a missing value)`);
      else if (v === null) X[i * features.length + j] = Number.NaN;
      else if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`row ${i}: feature ${JSON.stringify(name)} must be a finite number or null`);
      else X[i * features.length + j] = v;
    });
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).join('; ');
    throw new ValidationError(`Invalid input for the model's signature (${features.join(', ')}): ${shown}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}.`);
  }
  return X;
}

export class Predictor {
  // Keyed by sha256: two versions with identical bytes share one session.
  private readonly sessions = new Map<string, Promise<Session>>();

  constructor(private readonly deps: { db: Db; artifacts: ArtifactStore }) {}

  private session(version: ModelVersion): Promise<Session> {
    let s = this.sessions.get(version.sha256);
    if (!s) {
      // artifacts.get verifies the sha256 before onnxruntime sees the bytes.
      s = this.deps.artifacts.get(version.uri).then(createSession);
      s.catch(() => this.sessions.delete(version.sha256));
      this.sessions.set(version.sha256, s);
    }
    return s;
  }

  async predict(modelName: string, rows: FeatureRow[], alias = PRODUCTION_ALIAS): Promise<PredictResult> {
    const version = await getVersionByAlias(this.deps.db, modelName, alias);
    const X = rowsToMatrix(rows, version);
    const { labels, probabilities } = await scoreMatrix(await this.session(version), version.signature, X, rows.length);
    const classes = version.signature.classes;
    const predictions = labels.map((label, i) => ({
      label,
      probabilities: Object.fromEntries(classes.map((c, k) => [String(c), probabilities[i * classes.length + k]])),
    }));
    return { model: modelName, version: version.version, alias, predictions };
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.then((x) => x.release(), () => {})));
  }
}
