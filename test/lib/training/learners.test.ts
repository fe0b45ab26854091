// Linear learners against known results: ridge's closed form, multinomial optimality, and K=2 softmax = binary logistic.
import { describe, expect, it } from 'vitest';
import { fitLogistic, fitMultinomial, lbfgs, predictMultinomial } from '../../../lib/training/logistic.js';
import { fitRidge } from '../../../lib/training/ridge.js';
import { gaussian, seededRandom } from '../../../lib/util/random.js';

function blobs(n: number, K: number, f: number, seed: number) {
  const rand = seededRandom(seed);
  const X = new Float64Array(n * f);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % K;
    y[i] = k;
    for (let j = 0; j < f; j++) X[i * f + j] = gaussian(rand) + (j === k % f ? 1.5 : 0) - (j === (k + 1) % f ? 0.7 : 0);
  }
  return { X, y };
}

describe('fitRidge', () => {
  it('matches the hand-solved closed form', () => {
    const X = Float64Array.from([1, 2, 3, 4]);
    const y = [2, 4, 6, 8];
    const exact = fitRidge(X, y, 4, 1, 0);
    expect(exact.coefficients[0]).toBeCloseTo(2, 12);
    expect(exact.intercept).toBeCloseTo(0, 12);
    // Centred x = [-1.5, -0.5, 0.5, 1.5]: sum x^2 = 5, sum x y = 10; w = 10 / (5 + 1), b = 5 - 2.5 w.
    const shrunk = fitRidge(X, y, 4, 1, 1);
    expect(shrunk.coefficients[0]).toBeCloseTo(10 / 6, 12);
    expect(shrunk.intercept).toBeCloseTo(5 - 2.5 * (10 / 6), 12);
  });

  it('satisfies the normal equations with two features and does not penalise the intercept', () => {
    const { X } = blobs(200, 2, 2, 3);
    const y = Array.from({ length: 200 }, (_, i) => 3 * X[i * 2] - 2 * X[i * 2 + 1] + 50);
    const fit = fitRidge(X, y, 200, 2, 0.5);
    const grad = [0, 0];
    let gb = 0;
    for (let i = 0; i < 200; i++) {
      const r = fit.intercept + X[i * 2] * fit.coefficients[0] + X[i * 2 + 1] * fit.coefficients[1] - y[i];
      grad[0] += r * X[i * 2];
      grad[1] += r * X[i * 2 + 1];
      gb += r;
    }
    expect(Math.abs(grad[0] + 0.5 * fit.coefficients[0])).toBeLessThan(1e-8);
    expect(Math.abs(grad[1] + 0.5 * fit.coefficients[1])).toBeLessThan(1e-8);
    expect(Math.abs(gb)).toBeLessThan(1e-8);
  });

  it('names the fix when collinear features leave no unique solution', () => {
    const X = Float64Array.from([1, 2, 2, 4, 3, 6]);
    expect(() => fitRidge(X, [1, 2, 3], 3, 2, 0)).toThrow(/alpha > 0/);
  });
});

describe('fitMultinomial', () => {
  it('reaches the optimum: the penalised gradient vanishes', () => {
    const n = 600, K = 3, f = 3, C = 0.7;
    const { X, y } = blobs(n, K, f, 5);
    const fit = fitMultinomial(X, y, n, f, K, { C, maxIterations: 500, tolerance: 1e-10 });
    expect(fit.converged).toBe(true);
    const P = predictMultinomial(X, n, f, fit);
    for (let k = 0; k < K; k++) {
      for (let j = 0; j <= f; j++) {
        let g = 0;
        for (let i = 0; i < n; i++) g += (P[i * K + k] - (y[i] === k ? 1 : 0)) * (j < f ? X[i * f + j] : 1);
        if (j < f) g += fit.coefficients[k * f + j] / C;
        expect(Math.abs(g)).toBeLessThan(1e-5);
      }
    }
    for (let i = 0; i < n; i++) expect(P[i * K] + P[i * K + 1] + P[i * K + 2]).toBeCloseTo(1, 12);
  });

  it('with two classes equals binary logistic regression at twice the C (w = w1 - w0)', () => {
    const n = 400, f = 2;
    const { X, y } = blobs(n, 2, f, 9);
    const soft = fitMultinomial(X, y, n, f, 2, { C: 0.5, maxIterations: 500, tolerance: 1e-11 });
    const binary = fitLogistic(X, Uint8Array.from(y), n, f, { C: 1, maxIterations: 100 });
    for (let j = 0; j < f; j++) expect(soft.coefficients[f + j] - soft.coefficients[j]).toBeCloseTo(binary.coefficients[j], 5);
    expect(soft.intercepts[1] - soft.intercepts[0]).toBeCloseTo(binary.intercept, 5);
  });

  it('is bit-for-bit deterministic', () => {
    const { X, y } = blobs(300, 4, 3, 2);
    const a = fitMultinomial(X, y, 300, 3, 4, { C: 1, maxIterations: 100 });
    const b = fitMultinomial(X, y, 300, 3, 4, { C: 1, maxIterations: 100 });
    expect(Array.from(a.coefficients)).toEqual(Array.from(b.coefficients));
  });
});

describe('lbfgs', () => {
  it('minimises the Rosenbrock function', () => {
    const r = lbfgs(
      (x, g) => {
        g[0] = -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2);
        g[1] = 200 * (x[1] - x[0] ** 2);
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2;
      },
      Float64Array.from([-1.2, 1]),
      { maxIterations: 500, tolerance: 1e-10 },
    );
    expect(r.x[0]).toBeCloseTo(1, 4);
    expect(r.x[1]).toBeCloseTo(1, 4);
  });
});
