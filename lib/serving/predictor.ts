// Online scoring runtime: resolves versions, keeps one verified and warmed onnxruntime session per version,
// and micro-batches concurrent requests for the same version into one scoring call.
import { ValidationError } from '../errors.js';
import { createSession, scoreColumns, scoreMatrix, type InputColumns, type Scores, type Session } from '../onnx/session.js';
import { getModelVersion, getVersionByAlias, onAliasMoved } from '../registry/registry.js';
import { PRODUCTION_ALIAS, type ModelVersion } from '../registry/types.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import type { Db } from '../storage/db.js';
import { DEFAULT_BATCH_OPTIONS, MicroBatcher, type BatchOptions } from './batcher.js';
import { RefreshingCache } from '../util/refreshing-cache.js';
import { isStorableText, STORABLE_TEXT } from '../util/storable-text.js';

/** One row of features: numbers for float features, strings for categorical ones, null for missing. */
export type FeatureRow = Record<string, number | string | null>;

export interface Prediction {
  label: string | number;
  probabilities: Record<string, number>;
}

/** The signature's problems with some rows, as one ValidationError (the first ten named). */
function invalidInput(features: readonly string[], problems: string[]): ValidationError {
  const shown = problems.slice(0, 10).join('; ');
  return new ValidationError(`Invalid input for the model's signature (${features.join(', ')}): ${shown}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}.`);
}

/** Every problem of one row: unknown features, missing ones, values that are not a finite number or null. */
function rowProblems(row: FeatureRow, i: number, features: readonly string[], known: ReadonlySet<string>, problems: string[]): void {
  for (const key of Object.keys(row)) if (!known.has(key)) problems.push(`row ${i}: unknown feature ${JSON.stringify(key)}`);
  for (const name of features) {
    const v = row[name];
    if (v === undefined) problems.push(`row ${i}: missing feature ${JSON.stringify(name)} (send null for a missing value)`);
    else if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) problems.push(`row ${i}: feature ${JSON.stringify(name)} must be a finite number or null`);
  }
}

type MatrixReader = (row: FeatureRow, X: Float32Array, o: number) => boolean;

// Per signature (one object per version): built once.
const matrixReaders = new WeakMap<ModelVersion['signature'], MatrixReader>();

/**
 * Fills one row of the matrix at `o`; false when a feature is missing or not a finite number or null. The feature
 * names are constant keys in the generated code, so rows parsed from JSON (one hidden class) load through inline
 * caches instead of one megamorphic keyed load per feature. Keys are JSON-quoted, so any name is safe.
 */
function matrixReader(signature: ModelVersion['signature']): MatrixReader {
  let read = matrixReaders.get(signature);
  if (!read) {
    const body = signature.features
      .map((f, j) => `v = row[${JSON.stringify(f.name)}]; if (typeof v === 'number' && Number.isFinite(v)) X[o + ${j}] = v; else if (v === null) X[o + ${j}] = NaN; else return false;`)
      .join('\n');
    read = new Function('row', 'X', 'o', `let v;\n${body}\nreturn true;`) as MatrixReader;
    matrixReaders.set(signature, read);
  }
  return read;
}

/** Converts JSON rows to an all-float model's input matrix (row-major, NaN for missing); every problem is reported with its row and column. */
export function rowsToMatrix(rows: FeatureRow[], version: Pick<ModelVersion, 'signature'>): Float32Array {
  const k = version.signature.features.length;
  const read = matrixReader(version.signature);
  const X = new Float32Array(rows.length * k);
  // The fast path only fills; a row that does not fit is re-checked below to name every problem.
  let bad = false;
  for (let i = 0; i < rows.length && !bad; i++) {
    // Every feature is present; any further key is one the model does not know.
    bad = !read(rows[i], X, i * k) || Object.keys(rows[i]).length !== k;
  }
  if (bad) {
    const features = version.signature.features.map((f) => f.name);
    const known = new Set(features);
    const problems: string[] = [];
    rows.forEach((row, i) => rowProblems(row, i, features, known, problems));
    throw invalidInput(features, problems);
  }
  return X;
}

/**
 * Converts JSON rows to feature columns for any signature (float and string features); every problem
 * is reported with its row and column. Unknown categories are allowed: the model scores them as unknown.
 * Strings Postgres cannot store (U+0000, unpaired surrogates) are not: the prediction log keeps each row's inputs.
 */
export function rowsToColumns(rows: FeatureRow[], version: Pick<ModelVersion, 'signature'>): InputColumns {
  const features = version.signature.features;
  const known = new Set(features.map((f) => f.name));
  const columns: InputColumns = {};
  const problems: string[] = [];
  for (const f of features) columns[f.name] = f.type === 'string' ? new Array<string | null>(rows.length).fill(null) : new Float32Array(rows.length);
  rows.forEach((row, i) => {
    for (const key of Object.keys(row)) if (!known.has(key)) problems.push(`row ${i}: unknown feature ${JSON.stringify(key)}`);
    for (const f of features) {
      const v = row[f.name];
      if (v === undefined) problems.push(`row ${i}: missing feature ${JSON.stringify(f.name)} (send null for a missing value)`);
      else if (f.type === 'string') {
        if (v !== null && typeof v !== 'string') problems.push(`row ${i}: feature ${JSON.stringify(f.name)} must be a string or null`);
        else if (v !== null && !isStorableText(v)) problems.push(`row ${i}: feature ${JSON.stringify(f.name)} must be ${STORABLE_TEXT}`);
        else (columns[f.name] as Array<string | null>)[i] = v;
      } else if (v === null) (columns[f.name] as Float32Array)[i] = Number.NaN;
      else if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`row ${i}: feature ${JSON.stringify(f.name)} must be a finite number or null`);
      else (columns[f.name] as Float32Array)[i] = v;
    }
  });
  if (problems.length > 0) throw invalidInput(features.map((f) => f.name), problems);
  return columns;
}

/** Joins several requests' feature columns, in order, into one set of columns for one scoring call. */
export function concatColumns(signature: ModelVersion['signature'], parts: Array<{ input: InputColumns; n: number }>, total: number): InputColumns {
  if (parts.length === 1) return parts[0].input;
  const out: InputColumns = {};
  for (const f of signature.features) {
    if (f.type === 'string') {
      const col = new Array<string | null>(total);
      let o = 0;
      for (const p of parts) {
        const src = p.input[f.name] as ArrayLike<string | null>;
        for (let i = 0; i < p.n; i++) col[o++] = src[i];
      }
      out[f.name] = col;
    } else {
      const col = new Float32Array(total);
      let o = 0;
      for (const p of parts) {
        col.set(p.input[f.name] as Float32Array, o);
        o += p.n;
      }
      out[f.name] = col;
    }
  }
  return out;
}

/**
 * One request's rows as the batcher carries them: for an all-float signature a row-major matrix (one typed array
 * per request, joined with one copy per request), else feature columns; with the version they are for (every request
 * under one batcher key names the same one).
 */
export type BatchInput = { version: ModelVersion } & ({ matrix: Float32Array } | { columns: InputColumns });

const allFloat = (signature: ModelVersion['signature']): boolean => signature.features.every((f) => f.type !== 'string');

/** Scores several requests' rows in one onnxruntime call. */
async function scoreBatch(session: Session, signature: ModelVersion['signature'], parts: Array<{ input: BatchInput; n: number }>, total: number): Promise<Scores> {
  const first = parts[0].input;
  if (!('matrix' in first)) return scoreColumns(session, signature, concatColumns(signature, parts.map((p) => ({ input: (p.input as { columns: InputColumns }).columns, n: p.n })), total), total);
  let X = first.matrix;
  if (parts.length > 1) {
    X = new Float32Array(total * signature.features.length);
    let at = 0;
    for (const p of parts) {
      const m = (p.input as { matrix: Float32Array }).matrix;
      X.set(m, at);
      at += m.length;
    }
  }
  return scoreMatrix(session, signature, X, total);
}

/** One row with every feature missing: NaN for numbers, null (an unknown category) for strings. */
function warmupColumns(signature: ModelVersion['signature']): InputColumns {
  return Object.fromEntries(signature.features.map((f) => [f.name, f.type === 'string' ? [null] : Float32Array.of(Number.NaN)]));
}

export interface PredictorOptions {
  batch: BatchOptions;
  /** How long an alias answer is reused; moves from other processes show within this. */
  aliasTtlMs: number;
}

/** Alias moves made by another process are served within this (the serving issue asks for 1 s). */
export const ALIAS_TTL_MS = 500;

export class Predictor {
  // Keyed by sha256: two versions with identical bytes share one session.
  private readonly sessions = new Map<string, Promise<Session>>();
  // Versions are immutable once registered, so their metadata is cached by `model@version`.
  private readonly versions = new Map<string, Promise<ModelVersion>>();
  // Alias answers, kept briefly: a lookup per request costs a Postgres round trip on the hot path.
  private readonly aliases: RefreshingCache<string, ModelVersion>;
  private readonly unsubscribe: () => void;
  readonly batcher: MicroBatcher<BatchInput, Prediction>;

  constructor(
    private readonly deps: { db: Db; artifacts: ArtifactStore },
    options: Partial<PredictorOptions> = {},
  ) {
    this.batcher = new MicroBatcher((_key, parts, total) => this.runBatch(parts, total), options.batch ?? DEFAULT_BATCH_OPTIONS);
    this.aliases = new RefreshingCache(options.aliasTtlMs ?? ALIAS_TTL_MS);
    // Moves made in this process (release workflows, the registry API) apply at once.
    this.unsubscribe = onAliasMoved((modelName, alias) => this.aliases.delete(`${modelName}@${alias}`));
  }

  /**
   * The session for a version: bytes verified against the sha256 (a mismatch is never served), then warmed
   * with one scoring call so the first real request does not pay for lazy initialisation.
   */
  load(version: ModelVersion): Promise<Session> {
    let s = this.sessions.get(version.sha256);
    if (!s) {
      s = (async () => {
        const session = await createSession(await this.deps.artifacts.get(version.uri));
        try {
          await scoreColumns(session, version.signature, warmupColumns(version.signature), 1);
        } catch (err) {
          await session.release().catch(() => {});
          throw err;
        }
        return session;
      })();
      s.catch(() => this.sessions.delete(version.sha256));
      this.sessions.set(version.sha256, s);
    }
    return s;
  }

  /** True when the version's session is loaded and warm (it can take traffic without a cold start). */
  async isReady(version: ModelVersion): Promise<boolean> {
    const s = this.sessions.get(version.sha256);
    if (!s) return false;
    return s.then(
      () => true,
      () => false,
    );
  }

  /** A version's registry entry, cached (versions never change once registered). */
  version(modelName: string, version: number): Promise<ModelVersion> {
    const key = `${modelName}@${version}`;
    let v = this.versions.get(key);
    if (!v) {
      v = getModelVersion(this.deps.db, modelName, version);
      v.catch(() => this.versions.delete(key));
      this.versions.set(key, v);
    }
    return v;
  }

  /** The version an alias points to now: cached for ALIAS_TTL_MS (refreshed ahead), dropped at once when it moves in this process. */
  resolveAlias(modelName: string, alias = PRODUCTION_ALIAS): Promise<ModelVersion> {
    // Only answers are kept: a model without the alias yet must show up as soon as it gets one.
    return this.aliases.get(`${modelName}@${alias}`, this.readAlias);
  }

  /** Reads `model@alias` (split at the last @: an alias has none). */
  private readonly readAlias = (key: string): Promise<ModelVersion> => {
    const at = key.lastIndexOf('@');
    return getVersionByAlias(this.deps.db, key.slice(0, at), key.slice(at + 1));
  };

  /**
   * Validates rows against the version's signature (ValidationError) and scores them, batched with concurrent requests.
   * `matrix`: the rows as this version's input matrix, when the caller has validated and built it already.
   */
  async score(version: ModelVersion, rows: FeatureRow[], matrix?: Float32Array): Promise<Prediction[]> {
    const input: BatchInput = matrix ? { version, matrix } : allFloat(version.signature) ? { version, matrix: rowsToMatrix(rows, version) } : { version, columns: rowsToColumns(rows, version) };
    await this.load(version);
    return this.batcher.submit(`${version.modelName}@${version.version}`, input, rows.length);
  }

  private async runBatch(parts: Array<{ input: BatchInput; n: number }>, total: number): Promise<Prediction[]> {
    const { version } = parts[0].input;
    const session = await this.load(version);
    const { labels, probabilities } = await scoreBatch(session, version.signature, parts, total);
    const classes = version.signature.classes.map(String);
    const c = classes.length;
    const out = new Array<Prediction>(labels.length);
    for (let i = 0; i < labels.length; i++) {
      const p: Record<string, number> = {};
      for (let k = 0; k < c; k++) p[classes[k]] = probabilities[i * c + k];
      out[i] = { label: labels[i], probabilities: p };
    }
    return out;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.aliases.clear();
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.then((x) => x.release(), () => {})));
  }
}
