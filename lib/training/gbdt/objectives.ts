// Loss functions the booster minimises: initial scores, per-row gradients and hessians, and the reported loss.
import { ValidationError } from '../../errors.js';
import type { GbdtObjective } from './params.js';

/** Scores are row-major n x outputs; gradients and hessians are output-major (outputs x n), one tree's slice each. */
export interface Objective {
  name: GbdtObjective;
  /** Raw score columns: 1, or the number of classes for multiclass. */
  outputs: number;
  /** Name of the value `loss` returns, for learning curves. */
  lossName: string;
  initScores(y: ArrayLike<number>): number[];
  /**
   * Fills gradients and hessians at `scores` and returns the mean loss there: the boosting loop needs both
   * after every round, and one pass shares the exponentials they have in common.
   */
  gradients(scores: Float64Array, y: ArrayLike<number>, grad: Float64Array, hess: Float64Array): number;
  /** Mean loss over all rows. */
  loss(scores: Float64Array, y: ArrayLike<number>): number;
}

// Keeps log-odds of a class that never occurs finite.
const EPS = 1e-15;
/** Rows whose log(1 + e) terms are summed as one log of their product (a power of two, at most 1023). */
const LOSS_CHUNK = 256;

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** Softmax of row i's k scores into out[0..k); returns the row's log-sum-exp, from which its log loss follows. */
export function softmaxRow(scores: ArrayLike<number>, i: number, k: number, out: Float64Array): number {
  let max = -Infinity;
  for (let c = 0; c < k; c++) max = Math.max(max, scores[i * k + c]);
  let sum = 0;
  for (let c = 0; c < k; c++) {
    out[c] = Math.exp(scores[i * k + c] - max);
    sum += out[c];
  }
  for (let c = 0; c < k; c++) out[c] /= sum;
  return max + Math.log(sum);
}

const binary: Objective = {
  name: 'binary',
  outputs: 1,
  lossName: 'log_loss',
  initScores(y) {
    let pos = 0;
    for (let i = 0; i < y.length; i++) pos += y[i];
    const p = Math.min(1 - EPS, Math.max(EPS, pos / y.length));
    return [Math.log(p / (1 - p))];
  },
  gradients(scores, y, grad, hess) {
    // Log loss per row is max(z, 0) - y·z + log(1 + e) with e = exp(-|z|), the e that sigmoid(z) needs too. The
    // logs are summed as the log of products of LOSS_CHUNK factors (each in (1, 2], so no overflow): one log per
    // chunk instead of one per row, which was about a third of this pass, for a mean loss equal to ~1e-15 relative.
    const chunk = LOSS_CHUNK; // a local for the hot loop (see buildHistogram)
    let sum = 0;
    let product = 1;
    for (let i = 0; i < y.length; i++) {
      const z = scores[i];
      const e = Math.exp(-Math.abs(z));
      const p = z >= 0 ? 1 / (1 + e) : e / (1 + e);
      grad[i] = p - y[i];
      hess[i] = p * (1 - p);
      sum += (z > 0 ? z : 0) - y[i] * z;
      product *= 1 + e;
      if ((i & (chunk - 1)) === chunk - 1) {
        sum += Math.log(product);
        product = 1;
      }
    }
    return (sum + Math.log(product)) / y.length;
  },
  loss(scores, y) {
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += softplus(scores[i]) - y[i] * scores[i];
    return sum / y.length;
  },
};

const regression: Objective = {
  name: 'regression',
  outputs: 1,
  lossName: 'mse',
  initScores(y) {
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += y[i];
    return [sum / y.length];
  },
  gradients(scores, y, grad, hess) {
    let sum = 0;
    for (let i = 0; i < y.length; i++) {
      const d = scores[i] - y[i];
      grad[i] = d;
      hess[i] = 1;
      sum += d ** 2;
    }
    return sum / y.length;
  },
  loss(scores, y) {
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += (scores[i] - y[i]) ** 2;
    return sum / y.length;
  },
};

function multiclass(k: number): Objective {
  const p = new Float64Array(k);
  // LightGBM's scaling: the softmax hessian diagonal understates the curvature by (k-1)/k.
  const factor = k / (k - 1);
  return {
    name: 'multiclass',
    outputs: k,
    lossName: 'multi_log_loss',
    initScores(y) {
      const counts = new Float64Array(k);
      for (let i = 0; i < y.length; i++) counts[y[i]]++;
      return Array.from(counts, (c) => Math.log(Math.max(EPS, c / y.length)));
    },
    gradients(scores, y, grad, hess) {
      const n = y.length;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        sum += softmaxRow(scores, i, k, p) - scores[i * k + y[i]];
        for (let c = 0; c < k; c++) {
          grad[c * n + i] = p[c] - (y[i] === c ? 1 : 0);
          hess[c * n + i] = factor * p[c] * (1 - p[c]);
        }
      }
      return sum / n;
    },
    loss(scores, y) {
      let sum = 0;
      for (let i = 0; i < y.length; i++) sum += softmaxRow(scores, i, k, p) - scores[i * k + y[i]];
      return sum / y.length;
    },
  };
}

/**
 * The objective for a label vector, after checking the labels fit it:
 * binary wants 0/1, multiclass integers 0..numClasses-1, regression finite numbers.
 */
export function objectiveFor(name: GbdtObjective, y: ArrayLike<number>, numClasses?: number): Objective {
  if (y.length === 0) throw new ValidationError('The training set is empty; at least one labelled row is needed.');
  if (name === 'regression') {
    for (let i = 0; i < y.length; i++) {
      if (!Number.isFinite(y[i])) throw new ValidationError(`Regression target at row ${i} is ${y[i]}; drop or impute rows with missing or infinite targets.`);
    }
    return regression;
  }
  let max = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (!Number.isInteger(v) || v < 0) {
      throw new ValidationError(`Class label at row ${i} is ${v}; ${name} labels must be class indices (0, 1, ...).`);
    }
    max = Math.max(max, v);
  }
  if (name === 'binary') {
    if (max > 1) throw new ValidationError(`Binary labels must be 0 or 1; found ${max}. Use the multiclass objective for more classes.`);
    return binary;
  }
  const k = numClasses ?? max + 1;
  if (max >= k) throw new ValidationError(`Class label ${max} is out of range for numClasses = ${k}.`);
  if (k < 2) throw new ValidationError(`Multiclass training needs at least two classes; the labels hold only class 0.`);
  return multiclass(k);
}

/** Checks validation labels against the objective chosen on the training labels. */
export function checkLabels(objective: Objective, y: ArrayLike<number>, what: string): void {
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    const ok = objective.name === 'regression' ? Number.isFinite(v) : Number.isInteger(v) && v >= 0 && v < Math.max(2, objective.outputs);
    if (!ok) throw new ValidationError(`${what} label at row ${i} is ${v}, which the ${objective.name} objective cannot use.`);
  }
}
