// Small seeded data sets for the gradient-boosted trees tests.
import { gaussian, seededRandom } from '../../../../lib/util/random.js';

export interface Synthetic {
  X: Float64Array;
  y: Float64Array;
  n: number;
  f: number;
}

function uniform(rand: () => number): number {
  return rand() * 2 - 1;
}

/** XOR of the signs of x0 and x1, with two pure-noise features; linear models sit at chance. */
export function xor(n: number, seed: number, labelNoise = 0.05): Synthetic {
  const rand = seededRandom(seed);
  const f = 4;
  const X = new Float64Array(n * f);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) X[i * f + j] = uniform(rand);
    const label = X[i * f] * X[i * f + 1] > 0 ? 1 : 0;
    y[i] = rand() < labelNoise ? 1 - label : label;
  }
  return { X, y, n, f };
}

/** Three classes by angle sector in the plane, plus one noise feature. */
export function sectors(n: number, seed: number): Synthetic {
  const rand = seededRandom(seed);
  const f = 3;
  const X = new Float64Array(n * f);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) X[i * f + j] = uniform(rand);
    const angle = Math.atan2(X[i * f + 1], X[i * f]) + Math.PI; // 0..2pi
    y[i] = Math.min(2, Math.floor((angle / (2 * Math.PI)) * 3));
  }
  return { X, y, n, f };
}

/** A smooth nonlinear target with gaussian noise; `scale` stretches it to test float32 parity on large values. */
export function wave(n: number, seed: number, scale = 1): Synthetic {
  const rand = seededRandom(seed);
  const f = 3;
  const X = new Float64Array(n * f);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) X[i * f + j] = uniform(rand) * 2;
    y[i] = scale * (Math.sin(2 * X[i * f]) + X[i * f + 1] ** 2 + 0.1 * gaussian(rand));
  }
  return { X, y, n, f };
}

/** Sets each value to NaN with probability `rate` (same seed, same holes). */
export function withMissing(data: Synthetic, rate: number, seed: number): Synthetic {
  const rand = seededRandom(seed);
  const X = data.X.map((v) => (rand() < rate ? Number.NaN : v));
  return { ...data, X };
}

/** Rows [from, to) of a data set. */
export function slice(data: Synthetic, from: number, to: number): Synthetic {
  return { X: data.X.slice(from * data.f, to * data.f), y: data.y.slice(from, to), n: to - from, f: data.f };
}

/** The float32 neighbours of a float32 value: the next one down and the next one up. */
export function float32Neighbours(v: number): [number, number] {
  const buf = new Float32Array(1);
  const bits = new Int32Array(buf.buffer);
  buf[0] = v;
  const at = bits[0];
  const step = (d: number) => {
    bits[0] = at;
    if (v === 0) {
      buf[0] = d > 0 ? 1e-45 : -1e-45;
      return buf[0];
    }
    bits[0] = at + (v > 0 ? d : -d);
    return buf[0];
  };
  return [step(-1), step(1)];
}

export function accuracy(pred: ArrayLike<number>, y: ArrayLike<number>): number {
  let hits = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) hits++;
  return hits / y.length;
}
