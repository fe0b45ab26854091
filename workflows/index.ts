// The one workflows entry: a worker takes exactly one workflowsPath, so every stage is re-exported here.
export * from './ingestion.js';
export * from './training.js';
export * from './release.js';
export * from './monitoring.js';
export * from './retraining.js';
export * from './batch-scoring.js';
export * from './rollout.js';
export * from './features.js';
