// Rows in Postgres's binary COPY format (COPY ... FROM STDIN WITH (FORMAT binary)): no quoting on our side and
// no text parsing of numbers, times and UUIDs on the server, which is where CSV COPY spends its time.

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Signature, flags 0, header extension length 0. */
const HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]);
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const JSONB_VERSION = 1;
/** Hex digit values by character code, -1 for anything else. */
const HEX = Int8Array.from({ length: 128 }, (_, c) => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1));

/**
 * A growable buffer of one COPY payload: the header, then rows (`row(n)` followed by n fields), then `finish()`.
 * Long payloads can be streamed with `take()`, which hands over what was written so far.
 */
export class CopyBinaryWriter {
  private buf: Buffer;
  private at: number;

  constructor(sizeHint = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(sizeHint, HEADER.length + 2));
    this.at = HEADER.copy(this.buf, 0);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  /** Starts a row of `fields` fields. */
  row(fields: number): void {
    this.room(2);
    this.at = this.buf.writeInt16BE(fields, this.at);
  }

  null(): void {
    this.room(4);
    this.at = this.buf.writeInt32BE(-1, this.at);
  }

  int32(v: number): void {
    this.room(8);
    this.at = this.buf.writeInt32BE(4, this.at);
    this.at = this.buf.writeInt32BE(v, this.at);
  }

  /** bigint column. */
  int64(v: number | bigint): void {
    this.room(12);
    this.at = this.buf.writeInt32BE(8, this.at);
    this.at = this.buf.writeBigInt64BE(BigInt(v), this.at);
  }

  /** real column. */
  float32(v: number): void {
    this.room(8);
    this.at = this.buf.writeInt32BE(4, this.at);
    this.at = this.buf.writeFloatBE(v, this.at);
  }

  /** double precision column. */
  float64(v: number): void {
    this.room(12);
    this.at = this.buf.writeInt32BE(8, this.at);
    this.at = this.buf.writeDoubleBE(v, this.at);
  }

  bool(v: boolean): void {
    this.room(5);
    this.at = this.buf.writeInt32BE(1, this.at);
    this.at = this.buf.writeUInt8(v ? 1 : 0, this.at);
  }

  /** timestamptz from epoch milliseconds: microseconds since 2000-01-01 UTC. */
  timestamp(ms: number): void {
    this.room(12);
    this.at = this.buf.writeInt32BE(8, this.at);
    this.at = this.buf.writeBigInt64BE(BigInt(Math.round(ms - PG_EPOCH_MS)) * 1000n, this.at);
  }

  /** A UUID in its canonical text form (8-4-4-4-12 hex digits) as its 16 bytes. */
  uuid(id: string): void {
    if (id.length !== 36) throw new Error(`Not a UUID: ${JSON.stringify(id)}`);
    this.room(20);
    const buf = this.buf;
    let at = buf.writeInt32BE(16, this.at);
    let i = 0;
    for (let b = 0; b < 16; b++) {
      if (i === 8 || i === 13 || i === 18 || i === 23) i++;
      const hi = HEX[id.charCodeAt(i)];
      const lo = HEX[id.charCodeAt(i + 1)];
      if (hi === undefined || lo === undefined || hi < 0 || lo < 0) throw new Error(`Not a UUID: ${JSON.stringify(id)}`);
      buf[at++] = (hi << 4) | lo;
      i += 2;
    }
    this.at = at;
  }

  text(s: string): void {
    this.utf8(s, false);
  }

  /** jsonb: its version byte, then the JSON text. */
  jsonb(json: string): void {
    this.utf8(json, true);
  }

  private utf8(s: string, jsonb: boolean): void {
    const head = jsonb ? 1 : 0;
    // A UTF-16 unit never takes more than 3 bytes of UTF-8: reserve that, write, then fill in the length.
    this.room(4 + head + s.length * 3);
    const lengthAt = this.at;
    this.at += 4;
    if (jsonb) this.buf[this.at] = JSONB_VERSION;
    const written = this.buf.write(s, this.at + head, 'utf8');
    this.buf.writeInt32BE(head + written, lengthAt);
    this.at += head + written;
  }

  get length(): number {
    return this.at;
  }

  /** Drops everything after `length` (a row that failed half-way). */
  truncate(length: number): void {
    this.at = length;
  }

  /** What was written so far, copied out; the writer goes on empty (for streaming a long payload). */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.at));
    this.at = 0;
    return out;
  }

  /** Ends the payload; what is left, the writer is done with. */
  finish(): Buffer {
    this.room(2);
    this.at = this.buf.writeInt16BE(-1, this.at);
    return this.buf.subarray(0, this.at);
  }
}

/**
 * A finished payload (header, rows, trailer) cut after its first `rows` rows into two finished payloads. The
 * cut is found by walking the rows' field lengths, so writers pay nothing for it until a payload must be split.
 */
export function splitCopyPayload(payload: Buffer, rows: number): [Buffer, Buffer] {
  let at = HEADER.length;
  for (let r = 0; r < rows; r++) {
    const fields = payload.readInt16BE(at);
    at += 2;
    for (let f = 0; f < fields; f++) at += 4 + Math.max(payload.readInt32BE(at), 0);
  }
  const trailer = payload.subarray(payload.length - 2);
  return [Buffer.concat([payload.subarray(0, at), trailer]), Buffer.concat([HEADER, payload.subarray(at)])];
}
