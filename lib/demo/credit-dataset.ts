// The demo dataset: deterministic synthetic credit applications with a known logistic ground truth.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gaussian, seededRandom } from '../util/random.js';

export const DEMO_DATASET = {
  name: 'credit-demo',
  target: 'defaulted',
  modelName: 'credit-default',
  features: ['income', 'debt_ratio', 'age', 'late_payments', 'utilization'],
} as const;

/** CSV text for `rows` applications; identical for the same seed, so re-ingesting finds the same version. */
export function creditCsv(rows = 2000, seed = 7): string {
  const rand = seededRandom(seed);
  const lines = ['id,income,debt_ratio,age,late_payments,utilization,defaulted'];
  for (let i = 0; i < rows; i++) {
    const income = Math.max(8, 55 + 20 * gaussian(rand));
    const debtRatio = Math.min(1.5, Math.max(0, 0.35 + 0.15 * gaussian(rand)));
    const age = Math.round(Math.min(85, Math.max(18, 42 + 12 * gaussian(rand))));
    const late = Math.floor(-Math.log(1 - rand()) * 0.8);
    const utilization = Math.min(1, Math.max(0, 0.4 + 0.25 * gaussian(rand)));
    const z = -1.2 - 0.03 * (income - 55) + 3.0 * (debtRatio - 0.35) - 0.02 * (age - 42) + 0.7 * late + 1.5 * (utilization - 0.4);
    const defaulted = rand() < 1 / (1 + Math.exp(-z)) ? 'yes' : 'no';
    // About 2% of incomes are missing, as in real application forms.
    const incomeCell = rand() < 0.02 ? '' : income.toFixed(1);
    lines.push([i + 1, incomeCell, debtRatio.toFixed(3), age, late, utilization.toFixed(3), defaulted].join(','));
  }
  return lines.join('\n') + '\n';
}

/** Writes the demo CSV under `dir` and returns its absolute path. */
export async function writeCreditCsv(dir: string, rows?: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.resolve(dir, 'credit-demo.csv');
  await writeFile(file, creditCsv(rows));
  return file;
}
