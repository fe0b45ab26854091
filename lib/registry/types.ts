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
