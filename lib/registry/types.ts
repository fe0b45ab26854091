// Registry shapes: registered models, versions and alias moves.
import type { ModelSignature } from '../training/types.js';

export interface ModelVersion {
  modelName: string;
  version: number;
  sha256: string;
  uri: string;
  signature: ModelSignature;
  metrics: Record<string, number>;
  params: Record<string, unknown>;
  trainingRunId: string | null;
  datasetVersionId: string | null;
  /** Held-out rows (Arrow IPC artifact) the release gates evaluate the version on. */
  evaluationUri: string | null;
  createdBy: string | null;
  createdAt: string;
  aliases: string[];
  /** When the version was archived (no alias may point at it any more), else null. */
  archivedAt: string | null;
  archivedBy: string | null;
}

export interface NewModelVersion {
  modelName: string;
  trainingRunId: string;
  sha256: string;
  uri: string;
  signature: ModelSignature;
  metrics: Record<string, number>;
  params: Record<string, unknown>;
  datasetVersionId: string;
  evaluationUri?: string;
  createdBy?: string;
}

export interface AliasMove {
  modelName: string;
  alias: string;
  version: number;
  actor: string;
  reason: string;
  /** Where the move came from: a workflow id, `api`, `cli`. */
  source: string;
}

/** The alias online serving reads. */
export const PRODUCTION_ALIAS = 'production';
export const MODEL_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

/** User-defined alias names: lower-case letters, digits, `-` and `_`, starting with a letter. */
export const ALIAS_PATTERN = '^[a-z][a-z0-9_-]{0,63}$';

export interface RegisteredModelSummary {
  name: string;
  description: string;
  createdAt: string;
  versions: number;
  latestVersion: number | null;
  /** alias -> version */
  aliases: Record<string, number>;
  /** True when gates were declared for the model (else the task's default applies). */
  gatesDeclared: boolean;
}

/** One row of alias_history: who pointed which alias where, when and why. */
export interface AliasHistoryEntry {
  modelName: string;
  alias: string;
  version: number;
  previousVersion: number | null;
  actor: string;
  reason: string;
  source: string;
  at: string;
}

export interface MetricComparison {
  metric: string;
  a: number | null;
  b: number | null;
  /** b - a, when both exist. */
  diff: number | null;
}

/** Where the API serves a version's HTML evaluation report. */
export function reportPath(modelName: string, version: number): string {
  return `/v1/models/${encodeURIComponent(modelName)}/versions/${version}/report`;
}
