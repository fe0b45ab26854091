// Rows of the canonical column types appended one at a time and taken out as one Arrow record batch. The
// buffers are exactly those apache-arrow's `makeBuilder` gives for the same values (so a version's bytes, and
// its content hash, do not depend on which builder wrote it), at a fraction of the per-value cost: values go
// straight into typed arrays instead of through the generic builders' per-value dispatch and UTF-8 copies.
import {
  makeData,
  Precision,
  RecordBatch,
  Struct,
  TimeUnit,
  Type,
  type Bool,
  type Data,
  type DataType,
  type Float,
  type Float64,
  type Schema,
  type Timestamp,
  type TimestampMillisecond,
  type Utf8,
} from 'apache-arrow';

const INITIAL_ROWS = 1024;
const TWO_32 = 4_294_967_296;

/** apache-arrow pads a flushed bitmap to a multiple of 64 bytes (at least 64); the IPC writer keeps it whole. */
function bitmapBytes(rows: number): number {
  return Math.max(64, Math.ceil(Math.ceil(rows / 8) / 64) * 64);
}

function grow<T extends Uint8Array | Int32Array | Float64Array>(array: T, atLeast: number): T {
  if (array.length >= atLeast) return array;
  const next = new (array.constructor as new (n: number) => T)(Math.max(atLeast, array.length * 2));
  next.set(array);
  return next;
}

interface ColumnBuilder {
  /** Appends a value, or a null for null/undefined. */
  append(value: unknown): void;
  /** The values since the last flush as Arrow data; starts over. */
  flush(): Data;
}

/** The validity bitmap every column keeps; only written out when the column has a null. */
class Validity {
  bits = new Uint8Array(INITIAL_ROWS / 8);
  length = 0;
  nullCount = 0;

  /** Records one row; returns whether it holds a value. */
  push(value: unknown): boolean {
    const i = this.length++;
    if (i >> 3 >= this.bits.length) this.bits = grow(this.bits, (i >> 3) + 1);
    if (value === null || value === undefined) {
      this.nullCount++;
      return false;
    }
    this.bits[i >> 3] |= 1 << (i & 7);
    return true;
  }

  take(): { length: number; nullCount: number; nullBitmap: Uint8Array | undefined } {
    const { length, nullCount } = this;
    let nullBitmap: Uint8Array | undefined;
    if (nullCount > 0) {
      nullBitmap = new Uint8Array(bitmapBytes(length));
      nullBitmap.set(this.bits.subarray(0, Math.ceil(length / 8)));
    }
    this.bits = new Uint8Array(INITIAL_ROWS / 8);
    this.length = 0;
    this.nullCount = 0;
    return { length, nullCount, nullBitmap };
  }
}

class Float64Column implements ColumnBuilder {
  private readonly validity = new Validity();
  private values = new Float64Array(INITIAL_ROWS);

  constructor(private readonly type: Float64) {}

  append(value: unknown): void {
    const i = this.validity.length;
    // Grown for nulls too: a null slot is a zero in the values buffer.
    if (i >= this.values.length) this.values = grow(this.values, i + 1);
    if (this.validity.push(value)) this.values[i] = value as number;
  }

  flush(): Data {
    const v = this.validity.take();
    const data = this.values.slice(0, v.length);
    this.values = new Float64Array(INITIAL_ROWS);
    return makeData({ type: this.type, ...v, data });
  }
}

/** Milliseconds as int64, written as two int32 halves (little-endian) rather than one BigInt per value. */
class TimestampColumn implements ColumnBuilder {
  private readonly validity = new Validity();
  private halves = new Int32Array(2 * INITIAL_ROWS);

  constructor(private readonly type: TimestampMillisecond) {}

  append(value: unknown): void {
    const i = this.validity.length;
    if (2 * i + 1 >= this.halves.length) this.halves = grow(this.halves, 2 * i + 2);
    if (!this.validity.push(value)) return;
    const ms = value as number;
    if (Number.isSafeInteger(ms)) {
      const high = Math.floor(ms / TWO_32);
      this.halves[2 * i] = ms - high * TWO_32;
      this.halves[2 * i + 1] = high;
    } else {
      // What the Arrow builder does (and how it fails for a fractional value).
      new BigInt64Array(this.halves.buffer, 8 * i, 1)[0] = BigInt(ms);
    }
  }

  flush(): Data {
    const v = this.validity.take();
    const data = new BigInt64Array(this.halves.buffer.slice(0, 8 * v.length));
    this.halves = new Int32Array(2 * INITIAL_ROWS);
    return makeData({ type: this.type, ...v, data });
  }
}

class BoolColumn implements ColumnBuilder {
  private readonly validity = new Validity();
  private bits = new Uint8Array(INITIAL_ROWS / 8);

  constructor(private readonly type: Bool) {}

  append(value: unknown): void {
    const i = this.validity.length;
    if (!this.validity.push(value)) return;
    if (i >> 3 >= this.bits.length) this.bits = grow(this.bits, (i >> 3) + 1);
    if (+(value as number)) this.bits[i >> 3] |= 1 << (i & 7);
  }

  flush(): Data {
    const v = this.validity.take();
    const data = new Uint8Array(bitmapBytes(v.length));
    data.set(this.bits.subarray(0, Math.ceil(v.length / 8)));
    this.bits = new Uint8Array(INITIAL_ROWS / 8);
    return makeData({ type: this.type, ...v, data });
  }
}

/** UTF-8 bytes written straight into one growing buffer (no per-value Uint8Array), nulls as empty slots. */
class Utf8Column implements ColumnBuilder {
  private readonly validity = new Validity();
  private offsets = new Int32Array(INITIAL_ROWS + 1);
  private bytes = Buffer.alloc(16 * INITIAL_ROWS);
  private end = 0;

  constructor(private readonly type: Utf8) {}

  append(value: unknown): void {
    const i = this.validity.length;
    if (i + 1 >= this.offsets.length) this.offsets = grow(this.offsets, i + 2);
    if (this.validity.push(value)) {
      const text = value as string;
      // At most 3 bytes per UTF-16 code unit.
      const need = this.end + 3 * text.length;
      if (need > this.bytes.length) {
        const next = Buffer.alloc(Math.max(need, 2 * this.bytes.length));
        this.bytes.copy(next, 0, 0, this.end);
        this.bytes = next;
      }
      this.end += this.bytes.write(text, this.end, 'utf8');
    }
    this.offsets[i + 1] = this.end;
  }

  flush(): Data {
    const v = this.validity.take();
    const valueOffsets = this.offsets.slice(0, v.length + 1);
    const data = new Uint8Array(this.end);
    data.set(this.bytes.subarray(0, this.end));
    this.offsets = new Int32Array(INITIAL_ROWS + 1);
    this.bytes = Buffer.alloc(16 * INITIAL_ROWS);
    this.end = 0;
    return makeData({ type: this.type, ...v, data, valueOffsets });
  }
}

function columnBuilder(type: DataType): ColumnBuilder {
  if (type.typeId === Type.Float && (type as Float).precision === Precision.DOUBLE) return new Float64Column(type as Float64);
  if (type.typeId === Type.Timestamp && (type as Timestamp).unit === TimeUnit.MILLISECOND) return new TimestampColumn(type as TimestampMillisecond);
  if (type.typeId === Type.Bool) return new BoolColumn(type as Bool);
  if (type.typeId === Type.Utf8) return new Utf8Column(type as Utf8);
  throw new Error(`BatchBuilder: ${String(type)} is not a canonical column type (float64, utf8, bool, timestamp[ms])`);
}

/** Rows appended one at a time into per-column buffers, taken out as one record batch. */
export class BatchBuilder {
  private readonly columns: ColumnBuilder[];
  length = 0;

  /** `schema` holds canonical types only (float64, utf8, bool, timestamp in ms; see `canonicalSchema`). */
  constructor(private readonly schema: Schema) {
    this.columns = schema.fields.map((f) => columnBuilder(f.type));
  }

  append(row: unknown[]): void {
    for (let c = 0; c < this.columns.length; c++) this.columns[c].append(row[c]);
    this.length++;
  }

  /** The rows appended since the last flush, as one record batch (possibly empty). */
  flush(): RecordBatch {
    const children = this.columns.map((b) => b.flush());
    const batch = new RecordBatch(this.schema, makeData({ type: new Struct(this.schema.fields), length: this.length, nullCount: 0, children }));
    this.length = 0;
    return batch;
  }
}
