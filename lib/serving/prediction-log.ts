// The prediction log: predictions are queued in memory and written in batches, by COPY in Postgres's binary format
// (each row encoded as it is queued, a batch sent as one buffer) or, on the embedded PGlite whose wire server cannot
// take COPY FROM STDIN, by one multi-row INSERT. The queue is bounded: when it is full the caller sheds load
// instead of dropping rows or growing memory.
import { setImmediate } from 'node:timers/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { CopyBinaryWriter } from '../storage/binary-copy.js';
import type { Db } from '../storage/db.js';

export interface PredictionRecord {
  id: string;
  at: Date;
  modelName: string;
  version: number;
  arm: string;
  inputs: unknown;
  outputs: unknown;
  latencyMs: number;
  /** The request the row answered; a shadow row carries its request's id. */
  requestId?: string;
  /**
   * `ok` (default), `error` (the routed version failed; outputs hold the error), `fallback` (answered by the
   * fallback version) or `default` (answered by the model's declared default answer; logged under the routed version).
   */
  status?: 'ok' | 'error' | 'fallback' | 'default';
}

export type WriteMethod = 'copy' | 'insert';

export interface PredictionLogOptions {
  method: WriteMethod;
  /** Rows held in memory at most; `append` refuses beyond it. */
  maxQueue: number;
  /** Rows per write. */
  batchSize: number;
  flushIntervalMs: number;
  onError?: (err: unknown) => void;
}

export const DEFAULT_LOG_OPTIONS: Omit<PredictionLogOptions, 'method'> = { maxQueue: 50_000, batchSize: 2_000, flushIntervalMs: 200 };

const COLUMNS = 'id, at, model_name, version, arm, inputs, outputs, latency_ms, request_id, status';

// ---- COPY in Postgres's binary format: one Buffer per batch, no CSV quoting and no text parsing on the server ----

const FIELDS = 10;
/** Bytes per socket write of a COPY payload. */
const COPY_SLICE_BYTES = 64 * 1024;

/** Appends one prediction as a COPY BINARY row, in COLUMNS order. */
function encodeRow(w: CopyBinaryWriter, r: PredictionRecord): void {
  w.row(FIELDS);
  w.uuid(r.id);
  w.timestamp(r.at.getTime());
  w.text(r.modelName);
  w.int32(r.version);
  w.text(r.arm);
  w.jsonb(JSON.stringify(r.inputs));
  w.jsonb(JSON.stringify(r.outputs));
  w.float32(r.latencyMs);
  if (r.requestId) w.uuid(r.requestId);
  else w.null();
  w.text(r.status ?? 'ok');
}

/**
 * Up to `batchSize` queued rows, written in one statement. For COPY they are encoded as they arrive, so the
 * queue holds bytes, not the request's objects (which would otherwise live until the flush and be promoted by
 * the garbage collector), and a flush is a single write.
 */
interface Batch {
  rows: number;
  copy?: CopyBinaryWriter;
  records?: PredictionRecord[];
  /** Set once the batch takes no more rows. */
  sealed?: Buffer | PredictionRecord[];
}

export class PredictionLog {
  private readonly batches: Batch[] = [];
  private queued = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly options: PredictionLogOptions;
  written = 0;

  constructor(private readonly db: Db, options: Partial<PredictionLogOptions> & { method: WriteMethod }) {
    this.options = { ...DEFAULT_LOG_OPTIONS, ...options };
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  get depth(): number {
    return this.queued;
  }

  /** True when `n` more rows fit; callers check before scoring so an accepted request is always logged. */
  hasRoom(n: number): boolean {
    return !this.closed && this.queued + n <= this.options.maxQueue;
  }

  /** Queues rows; returns false (and queues nothing) when they do not fit. */
  append(records: PredictionRecord[]): boolean {
    if (!this.hasRoom(records.length)) return false;
    for (const r of records) {
      let open = this.batches.at(-1);
      if (!open || open.sealed) {
        open = this.options.method === 'copy' ? { rows: 0, copy: new CopyBinaryWriter(64 * 1024) } : { rows: 0, records: [] };
        this.batches.push(open);
      }
      if (open.copy) {
        const before = open.copy.length;
        try {
          encodeRow(open.copy, r);
        } catch (err) {
          open.copy.truncate(before);
          throw err;
        }
      } else open.records!.push(r);
      open.rows++;
      this.queued++;
      if (open.rows >= this.options.batchSize) this.seal(open);
    }
    if (this.batches.length > 1 || this.batches[0]?.sealed) void this.flush();
    return true;
  }

  private seal(batch: Batch): void {
    batch.sealed ??= batch.copy ? batch.copy.finish() : batch.records!;
    batch.copy = undefined;
    batch.records = undefined;
  }

  /** Writes everything queued so far. Concurrent calls share one writer; failed batches stay queued. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.queued === 0) return Promise.resolve();
    this.flushing = (async () => {
      try {
        while (this.batches.length > 0) {
          const batch = this.batches[0];
          this.seal(batch);
          await this.write(batch.sealed!);
          this.batches.shift();
          this.queued -= batch.rows;
          this.written += batch.rows;
        }
      } catch (err) {
        this.options.onError?.(err);
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  private async write(batch: Buffer | PredictionRecord[]): Promise<void> {
    if (!Buffer.isBuffer(batch)) {
      await this.db.query(
        `insert into predictions (${COLUMNS})
         select id, at, model_name, version, arm, inputs, outputs, latency_ms, request_id, coalesce(status, 'ok')
         from jsonb_to_recordset($1::jsonb) as r(id uuid, at timestamptz, model_name text, version int, arm text, inputs jsonb, outputs jsonb, latency_ms real, request_id uuid, status text)
         on conflict (id) do nothing`,
        [JSON.stringify(batch.map((r) => ({ id: r.id, at: r.at.toISOString(), model_name: r.modelName, version: r.version, arm: r.arm, inputs: r.inputs, outputs: r.outputs, latency_ms: r.latencyMs, request_id: r.requestId ?? null, status: r.status ?? 'ok' })))],
      );
      return;
    }
    const client = await this.db.connect();
    try {
      // The batch goes out in slices with a turn of the event loop between them: a socket write of a whole
      // batch (megabytes on loopback) stalls request handling for milliseconds. A stream chunk per row, as the
      // CSV version had, cost thousands of small writes instead.
      const copy = client.query(copyFrom(`copy predictions (${COLUMNS}) from stdin with (format binary)`));
      let failed = false;
      // 'finish' comes once the server has taken the whole COPY; a refused row fails it with 'error'.
      const done = new Promise<void>((resolve, reject) => {
        copy.once('finish', resolve);
        copy.on('error', (err) => {
          failed = true;
          reject(err);
        });
      });
      // Awaited below; until then a failure must not count as an unhandled rejection.
      done.catch(() => {});
      for (let at = 0; at < batch.length && !failed; at += COPY_SLICE_BYTES) {
        if (at > 0) await setImmediate();
        if (!copy.write(batch.subarray(at, at + COPY_SLICE_BYTES))) await new Promise((r) => copy.once('drain', r).once('error', r));
      }
      if (!failed) copy.end();
      await done;
      client.release();
    } catch (err) {
      // A connection whose COPY failed half-way is not reused.
      client.release(err as Error);
      throw err;
    }
  }

  /** Stops taking rows and writes what is queued; retries a failing write a few times before giving up. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (let attempt = 0; attempt < 5 && this.queued > 0; attempt++) {
      await this.flush();
      if (this.queued > 0) await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }
}
