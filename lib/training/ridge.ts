// Ridge regression: least squares with an L2 penalty on the coefficients (not the intercept), solved exactly.
import { ValidationError } from '../errors.js';
import { choleskySolve } from './logistic.js';

export interface RidgeFit {
  coefficients: Float64Array;
  intercept: number;
  /** Training mean squared error (a one-point curve: the solve is closed-form). */
  trainMse: number;
}

/**
 * Minimises ||y - Xw - b||^2 + alpha ||w||^2 (scikit-learn's Ridge objective) through the normal
 * equations on centred data: (Xc'Xc + alpha I) w = Xc'yc, b = mean(y) - mean(X) w. Deterministic.
 */
export function fitRidge(X: Float64Array, y: ArrayLike<number>, n: number, f: number, alpha: number): RidgeFit {
  if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new ValidationError(`params.alpha must be a finite number >= 0 (got ${alpha}).`);
  const xMean = new Float64Array(f);
  let yMean = 0;
  for (let i = 0; i < n; i++) {
    yMean += y[i];
    for (let j = 0; j < f; j++) xMean[j] += X[i * f + j];
  }
  yMean /= n;
  for (let j = 0; j < f; j++) xMean[j] /= n;
  const A = new Float64Array(f * f);
  const b = new Float64Array(f);
  const row = new Float64Array(f);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) row[j] = X[i * f + j] - xMean[j];
    const yc = y[i] - yMean;
    for (let j = 0; j < f; j++) {
      b[j] += row[j] * yc;
      for (let k = 0; k <= j; k++) A[j * f + k] += row[j] * row[k];
    }
  }
  for (let j = 0; j < f; j++) {
    for (let k = 0; k < j; k++) A[k * f + j] = A[j * f + k];
    A[j * f + j] += alpha;
  }
  let w: Float64Array;
  try {
    w = f > 0 ? choleskySolve(A, b, f) : new Float64Array(0);
  } catch {
    throw new ValidationError('The features are collinear and alpha is 0, so ridge regression has no unique solution; set params.alpha > 0.');
  }
  let intercept = yMean;
  for (let j = 0; j < f; j++) intercept -= xMean[j] * w[j];
  let sse = 0;
  for (let i = 0; i < n; i++) {
    let p = intercept;
    for (let j = 0; j < f; j++) p += X[i * f + j] * w[j];
    sse += (y[i] - p) ** 2;
  }
  return { coefficients: w, intercept, trainMse: sse / n };
}

export function predictLinear(X: Float64Array, n: number, f: number, fit: Pick<RidgeFit, 'coefficients' | 'intercept'>): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let p = fit.intercept;
    for (let j = 0; j < f; j++) p += X[i * f + j] * fit.coefficients[j];
    out[i] = p;
  }
  return out;
}
