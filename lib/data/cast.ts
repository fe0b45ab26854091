// Casting source values to the canonical column types, with a reason when a value does not fit.
import { DataType, type Field } from 'apache-arrow';
import type { ColumnType } from './types.js';

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(Infinity|NaN)$/;
// ISO 8601 date or date-time; without an offset it is read as UTC.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;

export type CastResult = { ok: true; value: number | string | boolean | null } | { ok: false; value: null; reason: string };

/** Why a value does not fit its column's type (allocated only for values that do not). */
export class CastFailure {
  constructor(readonly reason: string) {}
}

const fail = (reason: string) => new CastFailure(reason);

// The common shapes of an ISO timestamp, which Date.parse reads as they are.
const PLAIN_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

function parseIsoUtc(s: string): number {
  if (PLAIN_UTC.test(s)) return Date.parse(s);
  let text = s.replace(' ', 'T');
  // A fraction finer than milliseconds is cut to milliseconds; Date.parse takes at most 3 digits reliably.
  text = text.replace(/(\.\d{3})\d+/, '$1');
  if (text.length > 10 && !/(Z|[+-]\d{2}(:?\d{2})?)$/.test(text)) text += 'Z';
  return Date.parse(text);
}

/**
 * Casts one value from a column of `from` type (as the source presents it; CSV cells are utf8
 * strings) to `to`: the cast value, or a CastFailure saying why it does not fit. Timestamps are UTC
 * milliseconds; null stays null. Allocates nothing for a value that fits (ingestion's per-cell path).
 */
export function cast(value: unknown, from: ColumnType, to: ColumnType): number | string | boolean | null | CastFailure {
  if (value === null || value === undefined) return null;
  switch (to) {
    case 'float64': {
      if (typeof value === 'number') return from === 'timestamp' ? fail('is a timestamp, not a number') : value;
      if (typeof value === 'bigint') return Number(value);
      if (typeof value === 'string') {
        const t = value.trim();
        return NUMBER.test(t) ? Number(t) : fail(`${JSON.stringify(clip(value))} is not a number`);
      }
      return fail(`${typeof value} is not a number`);
    }
    case 'utf8': {
      if (typeof value === 'string') return value;
      if (typeof value === 'number' && from === 'timestamp') return new Date(value).toISOString();
      if (value instanceof Date) return value.toISOString();
      if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
      return JSON.stringify(value);
    }
    case 'bool': {
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string') {
        const t = value.trim().toLowerCase();
        if (t === 'true' || t === '1' || t === 't' || t === 'yes') return true;
        if (t === 'false' || t === '0' || t === 'f' || t === 'no') return false;
        return fail(`${JSON.stringify(clip(value))} is not a boolean (true/false, 1/0)`);
      }
      if (typeof value === 'number' && (value === 0 || value === 1) && from !== 'timestamp') return value === 1;
      return fail(`${String(value)} is not a boolean`);
    }
    case 'timestamp': {
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? fail('is an invalid date') : value.getTime();
      if (typeof value === 'number' && from === 'timestamp') return value;
      if (typeof value === 'string') {
        const t = value.trim();
        const ms = ISO_DATE.test(t) ? parseIsoUtc(t) : Number.NaN;
        return Number.isNaN(ms) ? fail(`${JSON.stringify(clip(value))} is not an ISO 8601 date or timestamp`) : ms;
      }
      return fail(`${typeof value === 'bigint' ? 'integer' : typeof value} ${String(value)} is not a timestamp`);
    }
  }
}

/** `cast` as a result object. */
export function castValue(value: unknown, from: ColumnType, to: ColumnType): CastResult {
  const v = cast(value, from, to);
  return v instanceof CastFailure ? { ok: false, value: null, reason: v.reason } : { ok: true, value: v };
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The canonical type an Arrow field's values map onto, or undefined for types ingestion cannot take (lists, structs, binary). */
export function canonicalArrowType(field: Field): ColumnType | undefined {
  let t = field.type as DataType;
  if (DataType.isDictionary(t)) t = t.dictionary;
  if (DataType.isFloat(t) || DataType.isInt(t)) return 'float64';
  if (DataType.isUtf8(t) || DataType.isLargeUtf8(t)) return 'utf8';
  if (DataType.isBool(t)) return 'bool';
  if (DataType.isTimestamp(t) || DataType.isDate(t)) return 'timestamp';
  return undefined;
}

/** A value as stored in JSON (quarantine, profile top-k): timestamps as ISO strings. */
export function displayValue(value: unknown, type: ColumnType): string | null {
  if (value === null || value === undefined) return null;
  if (type === 'timestamp' && typeof value === 'number') return new Date(value).toISOString();
  if (typeof value === 'string') return clip(value);
  return String(value);
}
