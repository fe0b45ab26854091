// Shared shapes for datasets: ingestion input/result, the stored column schema, reports and lineage.
import type { DatasetProfile } from './profile.js';

/**
 * Canonical column types of a stored dataset version. Every source type maps onto one of these
 * (integers, decimals and floats become float64; dates and timestamps become UTC milliseconds).
 */
export const COLUMN_TYPES = ['float64', 'utf8', 'bool', 'timestamp'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  nullCount: number;
}

/** `replace`: the source is the whole dataset. `append`: the source adds rows to the latest version (its parent). */
export const INGESTION_MODES = ['replace', 'append'] as const;
export type IngestionMode = (typeof INGESTION_MODES)[number];

export interface IngestionInput {
  /** Dataset name: letters, digits, `_`, `-`, `.`; versions accumulate under it. */
  name: string;
  /**
   * Where the rows come from, readable by the worker: an absolute path or file:// URL of a CSV
   * (optionally .gz), Parquet (.parquet) or Arrow IPC file or stream (.arrow, .arrows, .feather, .ipc)
   * file; or a Postgres URL (`postgres://…`, or `postgres:default` for mlcycle's own database) with `query`.
   */
  sourceUri: string;
  /** SQL for a Postgres source; run read-only, fetched through a server-side cursor. */
  query?: string;
  /** Source format when the file extension does not say it. */
  format?: SourceFormat;
  /** Contract version to check against; defaults to the dataset's latest registered contract, if any. */
  contractVersion?: number;
  mode?: IngestionMode;
  /** Ingestion run id (the workflow id); quarantined rows and the report are stored under it. */
  runId?: string;
  /**
   * The ingestion activity's heartbeat timeout (default one minute, workflows/activity-options.ts LONG_IO): how
   * soon a dead worker's attempt is retried elsewhere. Not taken over HTTP; tests shorten it.
   */
  heartbeatTimeout?: string;
}

export const SOURCE_FORMATS = ['csv', 'parquet', 'arrow', 'postgres'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

export interface Lineage {
  sourceUri: string;
  contractVersion: number | null;
  parentIds: string[];
  ingestionRunId: string | null;
  rowsRead: number;
  rowsQuarantined: number;
  duplicatesDropped: number;
  /** Rows carried over from the parent (append mode). */
  rowsFromParent: number;
}

export interface DatasetVersion {
  id: string;
  name: string;
  version: number;
  sha256: string;
  uri: string;
  rowCount: number;
  columns: ColumnSchema[];
  sourceUri: string;
  lineage: Lineage;
  createdAt: string;
}

export interface IngestionResult extends DatasetVersion {
  /** False when identical data was already stored and that version is returned. */
  created: boolean;
  report: IngestionReport;
}

export type Severity = 'error' | 'warn';

/** The outcome of one contract check over a run. */
export interface CheckOutcome {
  /** e.g. `range`, `notNull`, `allowed`, `pattern`, `type`, `unique`, `freshness`, `rowCount`, `schema`. */
  check: string;
  column?: string;
  severity: Severity;
  violations: number;
  /** violations / rows read (row checks); 1 or 0 for dataset-level checks. */
  fraction: number;
  maxFraction: number;
  breached: boolean;
  message: string;
}

export interface SchemaDrift {
  /** What the source was compared with. */
  against: 'contract' | 'previous version';
  added: string[];
  missing: string[];
  retyped: Array<{ column: string; expected: ColumnType; actual: ColumnType }>;
}

export interface IngestionReport {
  runId: string;
  datasetName: string;
  sourceUri: string;
  contractVersion: number | null;
  status: 'succeeded' | 'failed';
  rowsRead: number;
  rowsQuarantined: number;
  rowsWritten: number;
  duplicates: { exact: number; byKey: number };
  checks: CheckOutcome[];
  drift: SchemaDrift[];
  /** One line per breach that failed the run. */
  errors: string[];
  warnings: string[];
}

export interface QuarantinedRow {
  runId: string;
  /** 1-based data row number in the source (a CSV's header is not counted: row 1 is line 2). */
  rowNumber: number;
  column: string | null;
  value: string | null;
  check: string;
  severity: Severity;
  reason: string;
}

export type { DatasetProfile };

export const DATASET_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
