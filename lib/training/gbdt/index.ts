// Public entry of the gradient-boosted trees learner: fit, predict, inspect.
export { fitGbdt, BIN_SAMPLE_ROWS, type GbdtData, type GbdtFitOptions } from './booster.js';
export { classCount, featureImportance, type GbdtModel } from './model.js';
export { DEFAULT_GBDT_PARAMS, resolveGbdtParams, type GbdtObjective, type GbdtParams } from './params.js';
export { predictClasses, predictProbabilities, predictRaw } from './predict.js';
export type { Tree } from './tree.js';
