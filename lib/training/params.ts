// Hyperparameter names, defaults and checks: unknown names and unusable values fail with the parameter's name.
import { ValidationError } from '../errors.js';
import { CATEGORICAL_ENCODINGS, DEFAULT_TRAINING_PARAMS, IMPUTE_STRATEGIES, LEARNERS, SCALINGS, type TrainingParams } from './types.js';

/** gbdt hyperparameters a run may set under `params.gbdt` (objective, class count and seed come from the run). */
export const GBDT_PARAM_NAMES = [
  'numIterations',
  'learningRate',
  'maxLeaves',
  'maxDepth',
  'minDataInLeaf',
  'minSumHessianInLeaf',
  'lambdaL2',
  'minGainToSplit',
  'maxBins',
  'minDataInBin',
  'rowSampleFraction',
  'featureSampleFraction',
  'earlyStoppingRounds',
] as const;

const PARAM_NAMES = Object.keys(DEFAULT_TRAINING_PARAMS).concat('gbdt');

function oneOf<T extends string>(name: string, value: T, allowed: readonly T[]): void {
  if (!allowed.includes(value)) throw new ValidationError(`params.${name} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)}).`);
}

/** Fills defaults and checks every value; the gbdt learner checks its own ranges when it fits. */
export function resolveParams(params: Partial<TrainingParams> | undefined): TrainingParams {
  for (const key of Object.keys(params ?? {})) {
    if (!PARAM_NAMES.includes(key)) throw new ValidationError(`Unknown hyperparameter params.${key}; known: ${PARAM_NAMES.join(', ')}.`);
  }
  const p: TrainingParams = { ...DEFAULT_TRAINING_PARAMS, ...params };
  oneOf('learner', p.learner, LEARNERS);
  oneOf('impute', p.impute, IMPUTE_STRATEGIES);
  oneOf('scaling', p.scaling, SCALINGS);
  oneOf('categorical', p.categorical, CATEGORICAL_ENCODINGS);
  if (!(p.C > 0) || !Number.isFinite(p.C)) throw new ValidationError(`params.C must be a finite number > 0 (got ${p.C}).`);
  if (!(p.alpha >= 0) || !Number.isFinite(p.alpha)) throw new ValidationError(`params.alpha must be a finite number >= 0 (got ${p.alpha}).`);
  if (!(p.validationFraction > 0 && p.validationFraction < 1)) {
    throw new ValidationError(`params.validationFraction must be between 0 and 1 (got ${p.validationFraction}).`);
  }
  if (!Number.isInteger(p.maxIterations) || p.maxIterations < 1) throw new ValidationError(`params.maxIterations must be a positive integer (got ${p.maxIterations}).`);
  if (!Number.isInteger(p.seed)) throw new ValidationError(`params.seed must be an integer (got ${p.seed}).`);
  if (!Number.isInteger(p.maxCategories) || p.maxCategories < 1) throw new ValidationError(`params.maxCategories must be a positive integer (got ${p.maxCategories}).`);
  if (!Number.isFinite(p.imputeConstant)) throw new ValidationError(`params.imputeConstant must be a finite number (got ${p.imputeConstant}).`);
  for (const [key, value] of Object.entries(p.gbdt ?? {})) {
    if (!(GBDT_PARAM_NAMES as readonly string[]).includes(key)) throw new ValidationError(`Unknown hyperparameter params.gbdt.${key}; the gbdt learner takes ${GBDT_PARAM_NAMES.join(', ')}.`);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(`params.gbdt.${key} must be a finite number (got ${JSON.stringify(value)}).`);
  }
  if (p.gbdt && p.learner !== 'gbdt') throw new ValidationError(`params.gbdt applies to the gbdt learner only (learner is ${p.learner}).`);
  return p;
}

/** Sets one hyperparameter by search name (`C`, or `gbdt.numIterations`) on a copy of `params`. */
export function withParam(params: Partial<TrainingParams>, name: string, value: number | string): Partial<TrainingParams> {
  if (name.startsWith('gbdt.')) return { ...params, gbdt: { ...params.gbdt, [name.slice(5)]: value as number } };
  return { ...params, [name]: value };
}

/** Checks a search-space name against the known hyperparameters. */
export function checkSearchName(name: string): void {
  if (name.startsWith('gbdt.')) {
    if (!(GBDT_PARAM_NAMES as readonly string[]).includes(name.slice(5))) throw new ValidationError(`Unknown hyperparameter search.space.${name}; the gbdt learner takes ${GBDT_PARAM_NAMES.map((n) => `gbdt.${n}`).join(', ')}.`);
    return;
  }
  if (name === 'seed' || name === 'validationFraction' || name === 'learner' || !PARAM_NAMES.includes(name) || name === 'gbdt') {
    throw new ValidationError(`search.space.${name} is not a searchable hyperparameter; search ${PARAM_NAMES.filter((n) => !['seed', 'validationFraction', 'learner', 'gbdt'].includes(n)).join(', ')} or gbdt.<name>.`);
  }
}
