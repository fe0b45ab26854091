// Reading single values out of an Arrow column in a per-row loop: the canonical types (float64, timestamp in ms,
// bool, utf8) straight from their buffers, giving exactly what `Vector.get` gives without its per-call chunk
// lookup and type dispatch; anything else through `Vector.get`.
import { DataType, Precision, TimeUnit, type Vector } from 'apache-arrow';

// How apache-arrow decodes utf8 values (a leading BOM dropped, invalid bytes replaced), so the strings are the same.
const utf8 = new TextDecoder('utf-8');
const TWO_32 = 4_294_967_296;
/** The high int32 half of an int64 whose value is a safe integer lies in [-2^21, 2^21). */
const SAFE_HIGH = 2_097_152;

/** A `get(row)` for one column of a record batch (or any vector), null for null slots. */
export function columnReader(vector: Vector | null | undefined): (row: number) => unknown {
  if (!vector) return () => null;
  if (vector.data.length !== 1) return (i) => vector.get(i);
  const data = vector.data[0];
  const { offset } = data;
  const type = data.type as DataType;
  const bits = data.nullCount > 0 ? data.nullBitmap : undefined;
  // A sliced chunk's value buffers already start at its first row, except bool's bitmap; `offset` locates bits.
  const isNull = (i: number) => bits !== undefined && ((bits[(offset + i) >> 3] >> ((offset + i) & 7)) & 1) === 0;
  if (DataType.isFloat(type) && type.precision === Precision.DOUBLE) {
    const values = data.values as Float64Array;
    return (i) => (isNull(i) ? null : values[i]);
  }
  if (DataType.isTimestamp(type) && type.unit === TimeUnit.MILLISECOND) {
    // int64 read as two int32 halves (little-endian), with no BigInt per value; beyond 2^53 `get` decides.
    const halves = new Int32Array(data.values.buffer, data.values.byteOffset, 2 * data.length);
    return (i) => {
      if (isNull(i)) return null;
      const high = halves[2 * i + 1];
      return high >= -SAFE_HIGH && high < SAFE_HIGH ? high * TWO_32 + (halves[2 * i] >>> 0) : vector.get(i);
    };
  }
  if (DataType.isBool(type)) {
    const values = data.values as Uint8Array;
    return (i) => (isNull(i) ? null : ((values[(offset + i) >> 3] >> ((offset + i) & 7)) & 1) === 1);
  }
  if (DataType.isUtf8(type)) {
    const values = data.values as Uint8Array;
    const offsets = data.valueOffsets as Int32Array;
    return (i) => (isNull(i) ? null : utf8.decode(values.subarray(offsets[i], offsets[i + 1])));
  }
  return (i) => vector.get(i);
}
