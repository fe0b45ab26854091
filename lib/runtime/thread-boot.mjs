// Worker-thread bootstrap (see ts-thread.ts): loads the TypeScript entry through tsx, whatever loader (or none) the parent runs under.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
