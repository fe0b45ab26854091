import { describe, expect, it } from 'vitest';
import { choleskySolve, fitLogistic, predictLogistic } from '../../../lib/training/logistic.js';
import { gaussian, seededRandom } from '../../../lib/util/random.js';

function synthetic(n: number, seed: number) {
  const rand = seededRandom(seed);
  const f = 3;
  const X = new Float64Array(n * f);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) X[i * f + j] = gaussian(rand);
    const z = 0.5 + 2 * X[i * f] - 1 * X[i * f + 1];
    y[i] = rand() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { X, y, n, f };
}

describe('fitLogistic', () => {
  it('reaches the optimum of the penalised objective (gradient ~ 0)', () => {
    const { X, y, n, f } = synthetic(2000, 1);
    const C = 0.5;
    const fit = fitLogistic(X, y, n, f, { C, maxIterations: 100 });
    expect(fit.converged).toBe(true);
    const p = predictLogistic(X, n, f, fit);
    const grad = new Float64Array(f + 1);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < f; j++) grad[j] += (p[i] - y[i]) * X[i * f + j];
      grad[f] += p[i] - y[i];
    }
    for (let j = 0; j < f; j++) grad[j] += fit.coefficients[j] / C;
    for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-6);
  });

  it('recovers the generating coefficients on a large sample', () => {
    const { X, y, n, f } = synthetic(20000, 2);
    const fit = fitLogistic(X, y, n, f, { C: 1e6, maxIterations: 100 });
    expect(fit.coefficients[0]).toBeCloseTo(2, 0);
    expect(fit.coefficients[1]).toBeCloseTo(-1, 0);
    expect(Math.abs(fit.coefficients[2])).toBeLessThan(0.1);
    expect(fit.intercept).toBeCloseTo(0.5, 0);
  });

  it('stays finite on separable data thanks to L2', () => {
    const X = Float64Array.from([-2, -1, 1, 2]);
    const y = Uint8Array.from([0, 0, 1, 1]);
    const fit = fitLogistic(X, y, 4, 1, { C: 1, maxIterations: 100 });
    expect(Number.isFinite(fit.coefficients[0])).toBe(true);
    expect(fit.coefficients[0]).toBeGreaterThan(0);
  });

  it('is bit-for-bit deterministic', () => {
    const { X, y, n, f } = synthetic(500, 3);
    const a = fitLogistic(X, y, n, f, { C: 1, maxIterations: 50 });
    const b = fitLogistic(X, y, n, f, { C: 1, maxIterations: 50 });
    expect(Array.from(a.coefficients)).toEqual(Array.from(b.coefficients));
    expect(a.intercept).toBe(b.intercept);
  });
});

describe('choleskySolve', () => {
  it('solves a small SPD system', () => {
    const A = Float64Array.from([4, 2, 2, 3]);
    const x = choleskySolve(A, Float64Array.from([2, 1]), 2);
    expect(x[0]).toBeCloseTo(0.5, 12);
    expect(x[1]).toBeCloseTo(0, 12);
  });
});
