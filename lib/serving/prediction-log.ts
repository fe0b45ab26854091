// The prediction log: predictions are queued in memory and written in batches, by COPY on a real
// Postgres or one multi-row INSERT on the embedded one (PGlite's wire server cannot take COPY FROM STDIN).
// The queue is bounded: when it is full the caller sheds load instead of dropping rows or growing memory.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
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

function csvField(v: string): string {
  return `"${v.replaceAll('"', '""')}"`;
}

function csvLine(r: PredictionRecord): string {
  return [r.id, r.at.toISOString(), csvField(r.modelName), r.version, csvField(r.arm), csvField(JSON.stringify(r.inputs)), csvField(JSON.stringify(r.outputs)), r.latencyMs, r.requestId ?? '', r.status ?? 'ok'].join(',') + '\n';
}

export class PredictionLog {
  private queue: PredictionRecord[] = [];
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
    return this.queue.length;
  }

  /** True when `n` more rows fit; callers check before scoring so an accepted request is always logged. */
  hasRoom(n: number): boolean {
    return !this.closed && this.queue.length + n <= this.options.maxQueue;
  }

  /** Queues rows; returns false (and queues nothing) when they do not fit. */
  append(records: PredictionRecord[]): boolean {
    if (!this.hasRoom(records.length)) return false;
    this.queue.push(...records);
    if (this.queue.length >= this.options.batchSize) void this.flush();
    return true;
  }

  /** Writes everything queued so far. Concurrent calls share one writer; failed batches stay queued. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.queue.length === 0) return Promise.resolve();
    this.flushing = (async () => {
      try {
        while (this.queue.length > 0) {
          const batch = this.queue.slice(0, this.options.batchSize);
          await this.write(batch);
          this.queue.splice(0, batch.length);
          this.written += batch.length;
        }
      } catch (err) {
        this.options.onError?.(err);
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  private async write(batch: PredictionRecord[]): Promise<void> {
    if (this.options.method === 'insert') {
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
      const stream = client.query(copyFrom(`copy predictions (${COLUMNS}) from stdin with (format csv)`));
      await pipeline(Readable.from(batch.map(csvLine)), stream);
    } finally {
      client.release();
    }
  }

  /** Stops taking rows and writes what is queued; retries a failing write a few times before giving up. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (let attempt = 0; attempt < 5 && this.queue.length > 0; attempt++) {
      await this.flush();
      if (this.queue.length > 0) await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }
}
