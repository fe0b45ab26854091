// Binary logistic regression with L2, fitted by Newton's method on standardised features.

export interface LogisticFit {
  coefficients: Float64Array;
  intercept: number;
  iterations: number;
  converged: boolean;
  /** Penalised training loss per iteration (for learning curves). */
  lossCurve: number[];
}

export interface LogisticOptions {
  /** Inverse L2 strength; the intercept is not penalised. */
  C: number;
  maxIterations: number;
  tolerance?: number;
  onIteration?: (iteration: number, loss: number) => void;
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** log(1 + exp(z)) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** Solves A x = b for a symmetric positive definite A (row-major, size d), by Cholesky. */
export function choleskySolve(A: Float64Array, b: Float64Array, d: number): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = A[i * d + j];
      for (let k = 0; k < j; k++) sum -= L[i * d + k] * L[j * d + k];
      if (i === j) {
        if (sum <= 0) throw new Error('Hessian is not positive definite; increase regularisation (lower C)');
        L[i * d + i] = Math.sqrt(sum);
      } else {
        L[i * d + j] = sum / L[j * d + j];
      }
    }
  }
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= L[i * d + k] * y[k];
    y[i] = sum / L[i * d + i];
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < d; k++) sum -= L[k * d + i] * x[k];
    x[i] = sum / L[i * d + i];
  }
  return x;
}

function penalisedLoss(X: Float64Array, y: Uint8Array, n: number, f: number, w: Float64Array, C: number): number {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let z = w[f];
    for (let j = 0; j < f; j++) z += X[i * f + j] * w[j];
    loss += softplus(z) - y[i] * z;
  }
  let norm = 0;
  for (let j = 0; j < f; j++) norm += w[j] * w[j];
  return loss + norm / (2 * C);
}

/**
 * Minimises sum(log loss) + ||w||^2 / (2C), the objective of scikit-learn's
 * LogisticRegression. X is row-major n x f (already scaled), y in {0,1}.
 * Deterministic: the same inputs give bit-identical coefficients.
 */
export function fitLogistic(X: Float64Array, y: Uint8Array, n: number, f: number, opts: LogisticOptions): LogisticFit {
  const d = f + 1; // last slot is the intercept
  let w = new Float64Array(d);
  const tol = opts.tolerance ?? 1e-10;
  let loss = penalisedLoss(X, y, n, f, w, opts.C);
  const lossCurve = [loss];
  let converged = false;
  let iteration = 0;
  const grad = new Float64Array(d);
  const hess = new Float64Array(d * d);
  const row = new Float64Array(d);
  while (iteration < opts.maxIterations) {
    iteration++;
    grad.fill(0);
    hess.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < f; j++) row[j] = X[i * f + j];
      row[f] = 1;
      let z = 0;
      for (let j = 0; j < d; j++) z += row[j] * w[j];
      const p = sigmoid(z);
      const r = p - y[i];
      const s = p * (1 - p);
      for (let j = 0; j < d; j++) {
        grad[j] += r * row[j];
        const sj = s * row[j];
        for (let k = 0; k <= j; k++) hess[j * d + k] += sj * row[k];
      }
    }
    for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) hess[k * d + j] = hess[j * d + k];
    for (let j = 0; j < f; j++) {
      grad[j] += w[j] / opts.C;
      hess[j * d + j] += 1 / opts.C;
    }
    hess[f * d + f] += 1e-12; // keeps the intercept's pivot positive when all p are 0 or 1
    const step = choleskySolve(hess, grad, d);
    // Backtracking keeps every step a descent step when far from the optimum.
    let t = 1;
    let next = new Float64Array(d);
    let nextLoss = Infinity;
    for (let k = 0; k < 30; k++) {
      for (let j = 0; j < d; j++) next[j] = w[j] - t * step[j];
      nextLoss = penalisedLoss(X, y, n, f, next, opts.C);
      if (nextLoss <= loss) break;
      t /= 2;
    }
    let maxStep = 0;
    for (let j = 0; j < d; j++) maxStep = Math.max(maxStep, Math.abs(next[j] - w[j]));
    w = next;
    const improvement = loss - nextLoss;
    loss = nextLoss;
    lossCurve.push(loss);
    opts.onIteration?.(iteration, loss);
    if (maxStep < tol || improvement < tol * Math.max(1, Math.abs(loss))) {
      converged = true;
      break;
    }
  }
  return { coefficients: w.slice(0, f), intercept: w[f], iterations: iteration, converged, lossCurve };
}

/** P(y=1) for each row of a scaled matrix. */
export function predictLogistic(X: Float64Array, n: number, f: number, fit: Pick<LogisticFit, 'coefficients' | 'intercept'>): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = fit.intercept;
    for (let j = 0; j < f; j++) z += X[i * f + j] * fit.coefficients[j];
    out[i] = sigmoid(z);
  }
  return out;
}
