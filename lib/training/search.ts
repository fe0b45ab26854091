// Hyperparameter search plans: grid, random, successive halving. Pure and deterministic, so the
// training workflow can drive it (trials themselves run as activities on the train queue).
import { ValidationError } from '../errors.js';
import { seededRandom } from '../util/random.js';
import { checkSearchName } from './params.js';
import type { SearchDimension, SearchSpec, TrainingParams } from './types.js';

export type TrialParams = Record<string, number | string>;

/** Upper bound on configurations per search, so a run's history stays small. */
export const MAX_TRIALS = 64;

/** Checks the spec; every name and range problem is a ValidationError naming it. */
export function validateSearch(spec: SearchSpec, params: Pick<TrainingParams, 'learner'>): void {
  if (!['grid', 'random', 'halving'].includes(spec.strategy)) throw new ValidationError(`search.strategy must be grid, random or halving (got ${JSON.stringify(spec.strategy)}).`);
  const names = Object.keys(spec.space ?? {});
  if (names.length === 0) throw new ValidationError('search.space names no hyperparameters.');
  for (const name of names) {
    checkSearchName(name);
    if (name.startsWith('gbdt.') && params.learner !== 'gbdt') throw new ValidationError(`search.space.${name} applies to the gbdt learner only (learner is ${params.learner}).`);
    const dim = spec.space[name];
    if ('values' in dim) {
      if (!Array.isArray(dim.values) || dim.values.length === 0) throw new ValidationError(`search.space.${name}.values must be a non-empty list.`);
    } else {
      if (!(Number.isFinite(dim.min) && Number.isFinite(dim.max) && dim.min < dim.max)) throw new ValidationError(`search.space.${name} needs finite min < max.`);
      if (dim.log && !(dim.min > 0)) throw new ValidationError(`search.space.${name} is log-scaled, so min must be > 0.`);
      if (spec.strategy === 'grid') throw new ValidationError(`Grid search needs a list of values for search.space.${name}, not a range.`);
    }
  }
  if (spec.strategy === 'halving') {
    if (spec.eta !== undefined && !(Number.isInteger(spec.eta) && spec.eta >= 2)) throw new ValidationError(`search.eta must be an integer >= 2 (got ${spec.eta}).`);
    if (spec.minBudget !== undefined && !(Number.isInteger(spec.minBudget) && spec.minBudget >= 1)) throw new ValidationError(`search.minBudget must be a positive integer.`);
    if (names.includes(budgetParam(params))) throw new ValidationError(`Successive halving sets ${budgetParam(params)} itself (the budget); leave it out of search.space.`);
  }
  if (spec.trials !== undefined && !(Number.isInteger(spec.trials) && spec.trials >= 1 && spec.trials <= MAX_TRIALS)) {
    throw new ValidationError(`search.trials must be an integer from 1 to ${MAX_TRIALS} (got ${spec.trials}).`);
  }
  if (spec.cvFolds !== undefined && !(Number.isInteger(spec.cvFolds) && spec.cvFolds >= 2 && spec.cvFolds <= 20)) {
    throw new ValidationError(`search.cvFolds must be an integer from 2 to 20 (got ${spec.cvFolds}).`);
  }
  const count = configurations(spec, 0).length;
  if (count > MAX_TRIALS) throw new ValidationError(`The search has ${count} configurations; at most ${MAX_TRIALS} are allowed.`);
}

function sample(dim: SearchDimension, rand: () => number): number | string {
  if ('values' in dim) return dim.values[Math.floor(rand() * dim.values.length)];
  const u = rand();
  const v = dim.log ? Math.exp(Math.log(dim.min) + u * (Math.log(dim.max) - Math.log(dim.min))) : dim.min + u * (dim.max - dim.min);
  // Rounded to 6 significant digits so trial params read cleanly and survive JSON round trips.
  return dim.integer ? Math.round(v) : Number(v.toPrecision(6));
}

/** The configurations to try: every grid combination, or `trials` seeded draws (default 10). */
export function configurations(spec: SearchSpec, seed: number): TrialParams[] {
  const names = Object.keys(spec.space).sort();
  if (spec.strategy === 'grid') {
    let combos: TrialParams[] = [{}];
    for (const name of names) {
      const dim = spec.space[name];
      const values = 'values' in dim ? dim.values : [];
      combos = combos.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
    }
    return combos;
  }
  const rand = seededRandom(seed ^ 0x5eed);
  return Array.from({ length: spec.trials ?? 10 }, () => Object.fromEntries(names.map((name) => [name, sample(spec.space[name], rand)])));
}

/** The hyperparameter successive halving treats as the budget. */
export function budgetParam(params: Pick<TrainingParams, 'learner'>): string {
  return params.learner === 'gbdt' ? 'gbdt.numIterations' : 'maxIterations';
}

/** Rungs of successive halving: each keeps ceil(k / eta) configurations and multiplies the budget by eta, ending at maxBudget. */
export function halvingRungs(configs: number, eta: number, minBudget: number, maxBudget: number): Array<{ configs: number; budget: number }> {
  const rungs: Array<{ configs: number; budget: number }> = [];
  let k = configs;
  let budget = Math.min(minBudget, maxBudget);
  for (;;) {
    rungs.push({ configs: k, budget });
    if (k <= 1 || budget >= maxBudget) break;
    k = Math.ceil(k / eta);
    budget = Math.min(maxBudget, budget * eta);
  }
  return rungs;
}

export interface ScoredTrial {
  trialId: string;
  params: TrialParams;
  /** NaN when the metric had no value; such trials rank last. */
  score: number;
  higherIsBetter: boolean;
}

/** Trials best first; ties keep the earlier trial (stable), so the choice is deterministic. */
export function rankTrials<T extends ScoredTrial>(trials: T[]): T[] {
  const key = (t: T) => (Number.isNaN(t.score) ? -Infinity : t.higherIsBetter ? t.score : -t.score);
  return trials
    .map((t, i) => ({ t, i }))
    .sort((a, b) => key(b.t) - key(a.t) || a.i - b.i)
    .map((x) => x.t);
}
