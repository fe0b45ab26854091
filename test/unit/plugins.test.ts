// The stage plugins and the bundle come from one table: the bundle hosts exactly the stages' activities.
import { describe, expect, it } from 'vitest';
import type { WorkerOptions } from '@temporalio/worker';
import { featuresPlugin, ingestionPlugin, mlcyclePlugin, monitoringPlugin, releasePlugin, servingPlugin, WORKFLOWS_PATH } from '../../workers/plugins.js';

const deps = { db: {} as never, artifacts: {} as never, onlineStore: {} as never };
const configured = (plugin: ReturnType<typeof mlcyclePlugin>) => plugin.configureWorker({ taskQueue: 'q' } as WorkerOptions);

describe('plugins', () => {
  it('bundles every stage and sets the one workflows entry', () => {
    const stages = [ingestionPlugin, featuresPlugin, releasePlugin, servingPlugin, monitoringPlugin].map((p) => configured(p(deps)));
    const stageActivities = stages.flatMap((o) => Object.keys(o.activities ?? {})).sort();
    const bundle = configured(mlcyclePlugin(deps));
    expect(Object.keys(bundle.activities ?? {}).sort()).toEqual(stageActivities);
    expect(stageActivities).toContain('ingestSource');
    for (const o of [...stages, bundle]) expect(o.workflowsPath).toBe(WORKFLOWS_PATH);
  });
});
