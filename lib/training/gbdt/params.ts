// Hyperparameters of the histogram gradient-boosted trees learner: names, defaults and checks.
import { ValidationError } from '../../errors.js';

export type GbdtObjective = 'binary' | 'multiclass' | 'regression';

export interface GbdtParams {
  objective: GbdtObjective;
  /** Multiclass only; inferred as max(label) + 1 when absent. */
  numClasses?: number;
  /** Boosting rounds; multiclass grows one tree per class per round. */
  numIterations: number;
  learningRate: number;
  /** Leaf-wise growth stops at this many leaves per tree. */
  maxLeaves: number;
  /** Deepest level a leaf may sit at; 0 or less means only maxLeaves limits a tree. */
  maxDepth: number;
  minDataInLeaf: number;
  /** Guards leaf values -G/(H+lambda) against near-zero hessians (saturated probabilities). */
  minSumHessianInLeaf: number;
  /** L2 penalty on leaf values. */
  lambdaL2: number;
  minGainToSplit: number;
  /** Value bins per feature (2..255); missing values get one more bin of their own. */
  maxBins: number;
  /** Fewest (binning-sample) rows a value bin holds, as LightGBM's min_data_in_bin: rarer values share a bin. */
  minDataInBin: number;
  /** Fraction of rows drawn (without replacement) for each round. */
  rowSampleFraction: number;
  /** Fraction of features drawn for each tree. */
  featureSampleFraction: number;
  /** Stop after this many rounds without a better validation loss; 0 turns early stopping off. */
  earlyStoppingRounds: number;
  seed: number;
}

export const DEFAULT_GBDT_PARAMS: Omit<GbdtParams, 'objective'> = {
  numIterations: 100,
  learningRate: 0.1,
  maxLeaves: 31,
  maxDepth: -1,
  minDataInLeaf: 20,
  minSumHessianInLeaf: 1e-3,
  lambdaL2: 0,
  minGainToSplit: 0,
  maxBins: 255,
  minDataInBin: 3,
  rowSampleFraction: 1,
  featureSampleFraction: 1,
  earlyStoppingRounds: 0,
  seed: 42,
};

const OBJECTIVES: readonly GbdtObjective[] = ['binary', 'multiclass', 'regression'];

function check(ok: boolean, message: string): void {
  if (!ok) throw new ValidationError(message);
}

/** Fills defaults and rejects values the learner cannot use, naming the parameter and the accepted range. */
export function resolveGbdtParams(params: Partial<GbdtParams> & Pick<GbdtParams, 'objective'>): GbdtParams {
  const p: GbdtParams = { ...DEFAULT_GBDT_PARAMS, ...params };
  const int = (v: number) => Number.isInteger(v);
  check(OBJECTIVES.includes(p.objective), `params.objective must be one of ${OBJECTIVES.join(', ')} (got ${JSON.stringify(p.objective)}).`);
  check(int(p.numIterations) && p.numIterations >= 1, `params.numIterations must be a positive integer (got ${p.numIterations}).`);
  check(p.learningRate > 0 && p.learningRate <= 1, `params.learningRate must be in (0, 1] (got ${p.learningRate}).`);
  check(int(p.maxLeaves) && p.maxLeaves >= 2, `params.maxLeaves must be an integer >= 2 (got ${p.maxLeaves}).`);
  check(int(p.maxDepth), `params.maxDepth must be an integer; use 0 or -1 for no depth limit (got ${p.maxDepth}).`);
  check(int(p.minDataInLeaf) && p.minDataInLeaf >= 1, `params.minDataInLeaf must be a positive integer (got ${p.minDataInLeaf}).`);
  check(p.minSumHessianInLeaf >= 0, `params.minSumHessianInLeaf must be >= 0 (got ${p.minSumHessianInLeaf}).`);
  check(p.lambdaL2 >= 0, `params.lambdaL2 must be >= 0 (got ${p.lambdaL2}).`);
  check(p.minGainToSplit >= 0, `params.minGainToSplit must be >= 0 (got ${p.minGainToSplit}).`);
  check(int(p.maxBins) && p.maxBins >= 2 && p.maxBins <= 255, `params.maxBins must be an integer from 2 to 255 (got ${p.maxBins}).`);
  check(int(p.minDataInBin) && p.minDataInBin >= 1, `params.minDataInBin must be a positive integer (got ${p.minDataInBin}).`);
  check(p.rowSampleFraction > 0 && p.rowSampleFraction <= 1, `params.rowSampleFraction must be in (0, 1] (got ${p.rowSampleFraction}).`);
  check(p.featureSampleFraction > 0 && p.featureSampleFraction <= 1, `params.featureSampleFraction must be in (0, 1] (got ${p.featureSampleFraction}).`);
  check(int(p.earlyStoppingRounds) && p.earlyStoppingRounds >= 0, `params.earlyStoppingRounds must be a non-negative integer (got ${p.earlyStoppingRounds}).`);
  check(int(p.seed), `params.seed must be an integer (got ${p.seed}).`);
  if (p.numClasses !== undefined) {
    check(p.objective === 'multiclass', `params.numClasses applies to the multiclass objective only (objective is ${p.objective}).`);
    check(int(p.numClasses) && p.numClasses >= 2, `params.numClasses must be an integer >= 2 (got ${p.numClasses}).`);
  }
  return p;
}
