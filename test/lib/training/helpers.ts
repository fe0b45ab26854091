// Small deterministic tables for the training tests: numeric and categorical features, class and numeric targets.
import { Float64, makeVector, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { gaussian, seededRandom } from '../../../lib/util/random.js';

export interface MixedOptions {
  n: number;
  seed: number;
  /** Number of target classes (2 = binary); 0 for a numeric target. */
  classes: number;
  missingRate?: number;
}

/** x1, x2 numeric (with some missing), color categorical (with some missing), day (ISO date); target `y`. */
export function mixedTable({ n, seed, classes, missingRate = 0.05 }: MixedOptions): Table {
  const rand = seededRandom(seed);
  const colors = ['red', 'green', 'blue', 'amber'];
  const effect: Record<string, number> = { red: 1.5, green: -1, blue: 0, amber: 0.5 };
  const x1: Array<number | null> = [];
  const x2: Array<number | null> = [];
  const color: Array<string | null> = [];
  const day: string[] = [];
  const y: Array<string | number> = [];
  for (let i = 0; i < n; i++) {
    const a = gaussian(rand) * 3 + 10;
    const b = gaussian(rand);
    const c = colors[Math.floor(rand() * colors.length)];
    x1.push(rand() < missingRate ? null : a);
    x2.push(rand() < missingRate ? null : b);
    color.push(rand() < missingRate ? null : c);
    day.push(new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10));
    const z = 0.8 * (a - 10) - 1.2 * b + effect[c] + gaussian(rand) * 0.5;
    if (classes === 0) y.push(3 * z + 100);
    else if (classes === 2) y.push(z > 0 ? 'yes' : 'no');
    else y.push(`c${Math.min(classes - 1, Math.max(0, Math.floor((z + 3) / (6 / classes))))}`);
  }
  return new Table({
    x1: vectorFromArray(x1, new Float64()),
    x2: vectorFromArray(x2, new Float64()),
    color: vectorFromArray(color, new Utf8()),
    day: vectorFromArray(day, new Utf8()),
    y: classes === 0 ? makeVector(Float64Array.from(y as number[])) : vectorFromArray(y as string[], new Utf8()),
  });
}
