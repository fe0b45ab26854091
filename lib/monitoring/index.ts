// Public entry of monitoring statistics: training profiles, window aggregates, drift numbers and verdicts.

export * from './binning.js';
export * from './column-values.js';
export * from './profile.js';
export * from './window.js';
export * from './stats.js';
export * from './special-functions.js';
export * from './drift.js';
export * from './thresholds.js';
export * from './verdict.js';
export * from './reference.js';
export * from './window-sql.js';
export * from './policy.js';
export * from './alerts.js';
