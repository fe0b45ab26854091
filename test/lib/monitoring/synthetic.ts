// Seeded synthetic columns for the monitoring tests: same seed, same data, every run.

import { gaussian, seededRandom } from '../../../lib/util/random.js';
import type { RawValue } from '../../../lib/monitoring/column-values.js';

export function normalSample(n: number, seed: number, mean = 0, sd = 1): Float64Array {
  const random = seededRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + sd * gaussian(random);
  return out;
}

/** n draws from categories with the given (unnormalised) weights. */
export function categoricalSample(n: number, seed: number, weights: Record<string, number>): string[] {
  const random = seededRandom(seed);
  const entries = Object.entries(weights);
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  return Array.from({ length: n }, () => {
    let u = random() * total;
    for (const [category, w] of entries) {
      u -= w;
      if (u < 0) return category;
    }
    return entries[entries.length - 1][0];
  });
}

/** The values with each one replaced by null with probability `rate`. */
export function withMissing<T extends RawValue>(values: ArrayLike<T>, rate: number, seed: number): (T | null)[] {
  const random = seededRandom(seed);
  return Array.from(values, (v) => (random() < rate ? null : v));
}
