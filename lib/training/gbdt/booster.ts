// The boosting loop: bin once, grow one tree per output per round on sampled rows and features, stop early on validation loss.
import { ValidationError } from '../../errors.js';
import { seededRandom } from '../../util/random.js';
import { binMatrix, fitBinMapper, transposeBins } from './binning.js';
import { growTree, type GrownTree } from './grow.js';
import { HistogramPool, histogramLayout, SLOT } from './histogram.js';
import type { GbdtModel } from './model.js';
import { checkLabels, objectiveFor } from './objectives.js';
import { resolveGbdtParams, type GbdtParams } from './params.js';
import { sampleIndices, sampleSize } from './sampling.js';
import { leafOfBinned, type Tree } from './tree.js';

/** A row-major n x f matrix (NaN = missing) with one label per row. */
export interface GbdtData {
  X: ArrayLike<number>;
  y: ArrayLike<number>;
  n: number;
  f: number;
}

export interface GbdtFitOptions {
  /** Scored after every round; required for early stopping. */
  validation?: GbdtData;
  /** Called after every round, e.g. to heartbeat; throwing from it aborts the fit. */
  onIteration?: (iteration: number, trainLoss: number, validLoss: number | undefined) => void;
}

/** Bin edges come from at most this many rows: quantiles settle long before, and sorting more costs time. */
export const BIN_SAMPLE_ROWS = 200_000;

function checkShape(data: GbdtData, what: string, f?: number): void {
  if (!Number.isInteger(data.n) || data.n < 1) throw new ValidationError(`The ${what} set has ${data.n} rows; at least one is needed.`);
  if (f !== undefined && data.f !== f) throw new ValidationError(`The ${what} set has ${data.f} features; the training set has ${f}.`);
  if (data.X.length !== data.n * data.f) {
    throw new ValidationError(`The ${what} matrix holds ${data.X.length} values; ${data.n} rows x ${data.f} features need ${data.n * data.f}.`);
  }
  if (data.y.length !== data.n) throw new ValidationError(`The ${what} set has ${data.n} rows but ${data.y.length} labels.`);
}

/** Adds a tree's output to one score column of a binned set by routing every row through it. */
function addTreeByRouting(scores: Float64Array, tree: Tree, bins: Uint8Array, n: number, f: number, missingCode: Int32Array, outputs: number, k: number): void {
  for (let i = 0; i < n; i++) scores[i * outputs + k] += tree.leafValue[leafOfBinned(tree, bins, f, i, missingCode)];
}

/**
 * Adds a just-grown tree's output to the training scores. Growth left every leaf's rows in one segment of
 * `rows`, so in-bag rows need no routing; only rows outside the round's bag (`bag` ascending) walk the tree.
 */
function addGrownTree(scores: Float64Array, grown: GrownTree, rows: Uint32Array, bag: Uint32Array, bins: Uint8Array, n: number, f: number, missingCode: Int32Array, outputs: number, k: number): void {
  const { tree, leafRanges } = grown;
  for (let leaf = 0; leaf < tree.leafValue.length; leaf++) {
    const v = tree.leafValue[leaf];
    for (let p = leafRanges[2 * leaf]; p < leafRanges[2 * leaf + 1]; p++) scores[rows[p] * outputs + k] += v;
  }
  if (bag.length === n) return;
  let b = 0;
  for (let i = 0; i < n; i++) {
    if (b < bag.length && bag[b] === i) b++;
    else scores[i * outputs + k] += tree.leafValue[leafOfBinned(tree, bins, f, i, missingCode)];
  }
}

/**
 * Fits a histogram gradient-boosted trees model (LightGBM's approach).
 * Deterministic: the same data, params and seed give identical trees.
 * Features are numeric; encode categorical columns (ordinal or one-hot) first.
 */
export function fitGbdt(train: GbdtData, params: Partial<GbdtParams> & Pick<GbdtParams, 'objective'>, options: GbdtFitOptions = {}): GbdtModel {
  const p = resolveGbdtParams(params);
  checkShape(train, 'training');
  const { n, f } = train;
  const objective = objectiveFor(p.objective, train.y, p.numClasses);
  const valid = options.validation;
  if (valid) {
    checkShape(valid, 'validation', f);
    checkLabels(objective, valid.y, 'Validation');
  }
  if (p.earlyStoppingRounds > 0 && !valid) {
    throw new ValidationError('params.earlyStoppingRounds needs a validation set; pass options.validation or set earlyStoppingRounds to 0.');
  }

  const rand = seededRandom(p.seed);
  const binRows = n > BIN_SAMPLE_ROWS ? sampleIndices(n, BIN_SAMPLE_ROWS, rand) : Uint32Array.from({ length: n }, (_, i) => i);
  const mapper = fitBinMapper(train.X, f, binRows, p.maxBins, p.minDataInBin);
  const bins = binMatrix(mapper, train.X, n, f);
  const columns = transposeBins(bins, n, f);
  const layout = histogramLayout(mapper);
  const pool = new HistogramPool(SLOT * layout.slots);

  const K = objective.outputs;
  // Rounded to float32 as ONNX base_values will be, so trainer and graph start from the same score.
  const baseScores = objective.initScores(train.y).map(Math.fround);
  const startScores = (rows: number) => Float64Array.from({ length: rows * K }, (_, s) => baseScores[s % K]);
  const scores = startScores(n);
  const validation = valid && { ...valid, bins: binMatrix(mapper, valid.X, valid.n, f), scores: startScores(valid.n) };

  const grad = new Float64Array(n * K);
  const hess = new Float64Array(n * K);
  const allRows = Uint32Array.from({ length: n }, (_, i) => i);
  const allFeatures = Int32Array.from({ length: f }, (_, j) => j);
  const rows = new Uint32Array(n);
  const scratch = new Uint32Array(n);
  const rowCount = sampleSize(n, p.rowSampleFraction);
  const featureCount = sampleSize(f, p.featureSampleFraction);

  const trees: Tree[] = [];
  const trainLoss: number[] = [];
  const validLoss: number[] = [];
  let best = { round: 0, loss: Infinity };

  objective.gradients(scores, train.y, grad, hess);
  for (let round = 1; round <= p.numIterations; round++) {
    // One row sample per round, shared by the round's trees (one per class), as LightGBM's bagging does.
    const bag = rowCount < n ? sampleIndices(n, rowCount, rand) : allRows;
    for (let k = 0; k < K; k++) {
      const features = featureCount < f ? Int32Array.from(sampleIndices(f, featureCount, rand)) : allFeatures;
      rows.set(bag);
      const bagRows = rows.subarray(0, bag.length);
      const grown = growTree({
        bins,
        columns,
        f,
        mapper,
        layout,
        pool,
        rows: bagRows,
        scratch,
        grad: grad.subarray(k * n, (k + 1) * n),
        hess: hess.subarray(k * n, (k + 1) * n),
        features,
        params: p,
      });
      trees.push(grown.tree);
      addGrownTree(scores, grown, bagRows, bag, bins, n, f, mapper.numBins, K, k);
      if (validation) addTreeByRouting(validation.scores, grown.tree, validation.bins, validation.n, f, mapper.numBins, K, k);
    }
    // The loss after this round, and the gradients the next round grows from.
    const tl = objective.gradients(scores, train.y, grad, hess);
    const vl = validation ? objective.loss(validation.scores, validation.y) : undefined;
    trainLoss.push(tl);
    if (vl !== undefined) validLoss.push(vl);
    options.onIteration?.(round, tl, vl);
    if (vl !== undefined && vl < best.loss) best = { round, loss: vl };
    if (p.earlyStoppingRounds > 0 && round - best.round >= p.earlyStoppingRounds) break;
  }

  const roundsRun = trainLoss.length;
  const rounds = p.earlyStoppingRounds > 0 ? best.round : roundsRun;
  return {
    objective: objective.name,
    numFeatures: f,
    numOutputs: K,
    baseScores,
    trees: trees.slice(0, rounds * K),
    rounds,
    roundsRun,
    lossName: objective.lossName,
    trainLoss,
    validLoss,
    params: p,
  };
}
