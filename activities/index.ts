// Every activity factory, for workers that host them all and for workflows' `import type`.
export { createIngestionActivities } from './ingestion.js';
export { createTrainingActivities } from './training.js';
export { createRegistryActivities } from './registry.js';
export { createReleaseActivities } from './release.js';
export type { ActivityDeps } from './deps.js';
