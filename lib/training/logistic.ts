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
        // Relative pivot test: rounding can leave a tiny positive pivot on an exactly singular matrix.
        if (!(sum > 1e-12 * Math.abs(A[i * d + i]))) throw new Error('Hessian is not positive definite; increase regularisation (lower C)');
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

export interface LbfgsOptions {
  maxIterations: number;
  /** Stop when the gradient's max-norm falls below this (scaled by max(1, |loss|)). */
  tolerance?: number;
  /** Corrections kept (the "m" of L-BFGS). */
  memory?: number;
  onIteration?: (iteration: number, loss: number) => void;
}

export interface LbfgsResult {
  x: Float64Array;
  loss: number;
  iterations: number;
  converged: boolean;
  lossCurve: number[];
}

/**
 * Minimises a smooth convex function by L-BFGS with a backtracking (Armijo) line search.
 * `evaluate` returns the loss and writes the gradient into `grad`. Deterministic.
 */
export function lbfgs(evaluate: (x: Float64Array, grad: Float64Array) => number, x0: Float64Array, opts: LbfgsOptions): LbfgsResult {
  const d = x0.length;
  const m = opts.memory ?? 10;
  const tol = opts.tolerance ?? 1e-8;
  let x = x0.slice();
  let g = new Float64Array(d);
  let loss = evaluate(x, g);
  const lossCurve = [loss];
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);
  let iteration = 0;
  let converged = false;
  const maxAbs = (v: Float64Array) => v.reduce((s, t) => Math.max(s, Math.abs(t)), 0);
  if (maxAbs(g) < tol * Math.max(1, Math.abs(loss))) return { x, loss, iterations: 0, converged: true, lossCurve };
  const nextG = new Float64Array(d);
  const next = new Float64Array(d);
  while (iteration < opts.maxIterations) {
    iteration++;
    // Two-loop recursion: direction = -H g.
    const q = g.slice();
    for (let i = S.length - 1; i >= 0; i--) {
      let a = 0;
      for (let j = 0; j < d; j++) a += S[i][j] * q[j];
      a *= rho[i];
      alpha[i] = a;
      for (let j = 0; j < d; j++) q[j] -= a * Y[i][j];
    }
    let gamma = 1;
    if (S.length > 0) {
      const last = S.length - 1;
      let sy = 0;
      let yy = 0;
      for (let j = 0; j < d; j++) {
        sy += S[last][j] * Y[last][j];
        yy += Y[last][j] * Y[last][j];
      }
      gamma = sy / yy;
    } else {
      gamma = 1 / Math.max(1, maxAbs(g) * Math.sqrt(d));
    }
    for (let j = 0; j < d; j++) q[j] *= gamma;
    for (let i = 0; i < S.length; i++) {
      let b = 0;
      for (let j = 0; j < d; j++) b += Y[i][j] * q[j];
      b *= rho[i];
      for (let j = 0; j < d; j++) q[j] += S[i][j] * (alpha[i] - b);
    }
    let slope = 0;
    for (let j = 0; j < d; j++) slope -= g[j] * q[j];
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      continue;
    }
    let t = 1;
    let nextLoss = Infinity;
    for (let k = 0; k < 40; k++) {
      for (let j = 0; j < d; j++) next[j] = x[j] - t * q[j];
      nextLoss = evaluate(next, nextG);
      if (nextLoss <= loss + 1e-4 * t * slope) break;
      t /= 2;
    }
    if (!(nextLoss <= loss)) break;
    const s = new Float64Array(d);
    const y = new Float64Array(d);
    let sy = 0;
    for (let j = 0; j < d; j++) {
      s[j] = next[j] - x[j];
      y[j] = nextG[j] - g[j];
      sy += s[j] * y[j];
    }
    const improvement = loss - nextLoss;
    x = next.slice();
    g = nextG.slice();
    loss = nextLoss;
    lossCurve.push(loss);
    opts.onIteration?.(iteration, loss);
    if (sy > 1e-12) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    if (maxAbs(g) < tol * Math.max(1, Math.abs(loss)) || improvement <= 1e-15 * Math.max(1, Math.abs(loss))) {
      converged = true;
      break;
    }
  }
  return { x, loss, iterations: iteration, converged, lossCurve };
}

export interface MultinomialFit {
  /** Row-major K x f coefficients on the (already preprocessed) design matrix. */
  coefficients: Float64Array;
  /** K intercepts, centred to sum to zero (softmax is unchanged by a common shift). */
  intercepts: Float64Array;
  classes: number;
  iterations: number;
  converged: boolean;
  lossCurve: number[];
}

/**
 * Multinomial (softmax) logistic regression: minimises sum(cross-entropy) + ||W||^2 / (2C),
 * scikit-learn's LogisticRegression(multi_class='multinomial') objective, by L-BFGS.
 * y holds class indices 0..K-1.
 */
export function fitMultinomial(
  X: Float64Array,
  y: ArrayLike<number>,
  n: number,
  f: number,
  K: number,
  opts: { C: number; maxIterations: number; tolerance?: number; onIteration?: (iteration: number, loss: number) => void },
): MultinomialFit {
  const d = f + 1;
  const z = new Float64Array(K);
  const evaluate = (w: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        let s = w[k * d + f];
        for (let j = 0; j < f; j++) s += X[i * f + j] * w[k * d + j];
        z[k] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let k = 0; k < K; k++) {
        z[k] = Math.exp(z[k] - max);
        sum += z[k];
      }
      const yi = y[i];
      loss += Math.log(sum) - Math.log(z[yi]);
      for (let k = 0; k < K; k++) {
        const r = z[k] / sum - (k === yi ? 1 : 0);
        if (r === 0) continue;
        for (let j = 0; j < f; j++) grad[k * d + j] += r * X[i * f + j];
        grad[k * d + f] += r;
      }
    }
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < f; j++) {
        const wk = w[k * d + j];
        loss += (wk * wk) / (2 * opts.C);
        grad[k * d + j] += wk / opts.C;
      }
    }
    return loss;
  };
  const result = lbfgs(evaluate, new Float64Array(K * d), { maxIterations: opts.maxIterations, tolerance: opts.tolerance ?? 1e-7, onIteration: opts.onIteration });
  const coefficients = new Float64Array(K * f);
  const intercepts = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < f; j++) coefficients[k * f + j] = result.x[k * d + j];
    intercepts[k] = result.x[k * d + f];
  }
  const mean = intercepts.reduce((s, v) => s + v, 0) / K;
  for (let k = 0; k < K; k++) intercepts[k] -= mean;
  return { coefficients, intercepts, classes: K, iterations: result.iterations, converged: result.converged, lossCurve: result.lossCurve };
}

/** Class probabilities (row-major n x K) of a multinomial fit. */
export function predictMultinomial(X: Float64Array, n: number, f: number, fit: Pick<MultinomialFit, 'coefficients' | 'intercepts' | 'classes'>): Float64Array {
  const K = fit.classes;
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      let s = fit.intercepts[k];
      for (let j = 0; j < f; j++) s += X[i * f + j] * fit.coefficients[k * f + j];
      out[i * K + k] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let k = 0; k < K; k++) {
      out[i * K + k] = Math.exp(out[i * K + k] - max);
      sum += out[i * K + k];
    }
    for (let k = 0; k < K; k++) out[i * K + k] /= sum;
  }
  return out;
}
