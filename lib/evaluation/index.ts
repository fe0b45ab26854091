// Public entry of the evaluation library: metrics, bootstrap, gates, report. Pure, no Temporal.

export * from './metrics.js';
export * from './bootstrap.js';
export * from './gates.js';
export * from './summary.js';
export * from './report.js';
export * from './errors.js';
export { interpolatedQuantile, nearestRankQuantile } from './quantile.js';
export type * from './types.js';
