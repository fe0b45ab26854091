// Shared shapes for datasets: ingestion input/result and the stored column schema.

export type ColumnType = 'float64' | 'utf8';

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  nullCount: number;
}

export interface IngestionInput {
  /** Dataset name: letters, digits, `_`, `-`, `.`; versions accumulate under it. */
  name: string;
  /** Absolute path or file:// URL of a CSV file (optionally .gz), readable by the worker. */
  sourceUri: string;
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
  createdAt: string;
}

export interface IngestionResult extends DatasetVersion {
  /** False when identical data was already stored and that version is returned. */
  created: boolean;
}

export const DATASET_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
