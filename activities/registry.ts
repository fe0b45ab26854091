// Registry activities: register versions, move aliases, record run outcomes. Short I/O, idempotent.
import { getApprovalPolicy, recordDecision, registerModelVersion, setAlias, setTrainingRunStatus } from '../lib/registry/registry.js';
import { postWebhook } from '../lib/notify/webhook.js';
import type { ApprovalPolicy } from '../lib/release/types.js';
import type { AliasMove, ModelVersion, NewModelVersion } from '../lib/registry/types.js';
import type { ActivityDeps } from './deps.js';
import { withFailureMapping } from './failures.js';

export function createRegistryActivities(deps: ActivityDeps) {
  return {
    async registerModelVersion(v: NewModelVersion): Promise<Pick<ModelVersion, 'modelName' | 'version' | 'sha256'>> {
      const mv = await withFailureMapping(() => registerModelVersion(deps.db, v));
      return { modelName: mv.modelName, version: mv.version, sha256: mv.sha256 };
    },
    async setModelAlias(move: AliasMove): Promise<{ previousVersion: number | null; changed: boolean }> {
      return withFailureMapping(() => setAlias(deps.db, move));
    },
    async loadApprovalPolicy(modelName: string): Promise<ApprovalPolicy | null> {
      return getApprovalPolicy(deps.db, modelName);
    },
    async setTrainingRunStatus(runId: string, status: string): Promise<void> {
      await setTrainingRunStatus(deps.db, runId, status);
    },
    async recordReleaseDecision(d: Parameters<typeof recordDecision>[1]): Promise<void> {
      await recordDecision(deps.db, d);
    },
    /** At-least-once: a retried reminder may arrive twice; receivers should key on the workflow id. */
    async sendApprovalReminder(url: string, payload: Record<string, unknown>): Promise<void> {
      await postWebhook(url, { event: 'approval.reminder', ...payload });
    },
  };
}
