// Shapes the materialize workflow, its activity and the API share (no Temporal, no database).

export interface MaterializeInput {
  view: string;
  /** The run's id (the workflow id); a run that already finished under it is returned, not repeated. */
  runId: string;
}

export interface MaterializeResult {
  runId: string;
  view: string;
  datasetVersionId: string;
  /** True when every entity was recomputed and the view's online values replaced (first run, changed declaration, or an online store that lost its copy). */
  full: boolean;
  /** Newest source event time materialized before and after this run. */
  previousWatermark: string | null;
  watermark: string | null;
  /** Entities whose source rows changed (or all, in a full run), written to the online store. */
  entitiesUpserted: number;
  /** Entities whose source rows are all gone from the new source version, removed from the online store. */
  entitiesRemoved: number;
}

/** A training frame request by view name (the workflow's and the API's input). */
export interface TrainingFrameRequest {
  /** Dataset version with the label table: entity column, timestamp column, label columns. */
  labelsVersionId: string;
  timestampColumn: string;
  /** Default: the first view's entity join key. */
  entityColumn?: string;
  /** Registered feature view names; their features are appended in this order. */
  views: string[];
  createdTimeGuard?: boolean;
  /** Dataset name the frame is stored under (a new version of it). */
  outputName: string;
  runId?: string;
}

export interface TrainingFrameSummary {
  datasetVersionId: string;
  datasetName: string;
  rowCount: number;
  /** False when an identical frame was already stored. */
  created: boolean;
  featureColumns: string[];
  missing: Record<string, number>;
}
