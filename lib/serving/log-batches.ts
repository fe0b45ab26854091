// The prediction log's write side: queued predictions grouped into batches of up to `batchSize` rows, each written
// in one statement, in order. By COPY in Postgres's binary format (each row encoded as it arrives, so a batch is
// one buffer) or, on the embedded PGlite whose wire server cannot take COPY FROM STDIN, by one multi-row INSERT.
// A batch whose write failed stays first in line. Its retry cannot know whether the failed attempt committed (the
// connection may have dropped after the server took it), so the retry merges: COPY into a temporary table, then
// insert what is not there yet. A plain COPY retry would hit its own rows' keys forever.
// A batch Postgres refuses for a value in it (a data error) would fail the same way on every retry and hold up
// every row behind it, so it is split in halves, each written on its own, until the refused rows are alone;
// those are dropped and reported.
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CopyBinaryWriter, splitCopyPayload } from '../storage/binary-copy.js';

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

/** What the batches write through: a pool (pg.Pool) or anything with its `connect` and `query`. */
export type LogDb = Pick<pg.Pool, 'connect' | 'query'>;

const COLUMNS = 'id, at, model_name, version, arm, inputs, outputs, latency_ms, request_id, status';
const FIELDS = 10;

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

interface Batch {
  rows: number;
  copy?: CopyBinaryWriter;
  records?: PredictionRecord[];
  /** Set once the batch takes no more rows. */
  sealed?: Buffer | PredictionRecord[];
  /** A write of this batch failed before: the next one must not duplicate what that attempt may have committed. */
  retry?: boolean;
}

/** SQLSTATE class 22 (data_exception): Postgres refused a value, so the same rows fail again on every attempt. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && code.startsWith('22');
}

/** A sealed batch in two, each to be written (merging: nothing is known of earlier attempts) on its own. */
function halves(batch: Batch): [Batch, Batch] {
  const sealed = batch.sealed!;
  const n = batch.rows >> 1;
  const [a, b] = Buffer.isBuffer(sealed) ? splitCopyPayload(sealed, n) : [sealed.slice(0, n), sealed.slice(n)];
  return [
    { rows: n, sealed: a, retry: true },
    { rows: batch.rows - n, sealed: b, retry: true },
  ];
}

/** Sends one binary COPY payload into `table`; resolves once the server has taken all of it. */
async function copyIn(client: pg.PoolClient, table: string, payload: Buffer): Promise<void> {
  const copy = client.query(copyFrom(`copy ${table} (${COLUMNS}) from stdin with (format binary)`));
  await new Promise<void>((resolve, reject) => {
    copy.once('finish', resolve);
    copy.once('error', reject);
    copy.end(payload);
  });
}

export interface LogWriterOptions {
  method: WriteMethod;
  /** Rows per write. */
  batchSize: number;
  /** How often queued rows are written even when no batch is full. */
  flushIntervalMs: number;
}

export interface LogWriterEvents {
  /** Rows committed to Postgres. */
  written(rows: number): void;
  /** Rows left out: they could not be encoded, or Postgres refused a value in them. */
  dropped(rows: number, err: unknown): void;
  /** A write failed; its rows stay queued for the next attempt. */
  failed(err: unknown): void;
}

/**
 * Queued rows in batches of up to `batchSize`, written in order one write at a time: when a batch fills, on a
 * timer, and on `flush()`.
 */
export class LogWriter {
  private readonly batches: Batch[] = [];
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: LogDb,
    private readonly options: LogWriterOptions,
    private readonly events: LogWriterEvents,
  ) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  /** Queues rows. A row that cannot be encoded is left out and reported; the others go on. */
  add(records: readonly PredictionRecord[]): void {
    let dropped = 0;
    let error: unknown;
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
          dropped++;
          error ??= err;
          continue;
        }
      } else open.records!.push(r);
      open.rows++;
      if (open.rows >= this.options.batchSize) this.seal(open);
    }
    if (dropped > 0) this.events.dropped(dropped, error);
    // A full batch waits: write it now rather than at the next tick.
    if (this.batches.length > 1 || this.batches[0]?.sealed) void this.flush();
  }

  /**
   * Writes every queued batch in order (and what arrives meanwhile), stopping at the first failure other than a
   * refused value. Concurrent calls share one pass; failures are reported, not thrown.
   */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.batches.length === 0) return Promise.resolve();
    this.flushing = this.writeAll()
      .catch((err: unknown) => this.events.failed(err))
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private seal(batch: Batch): void {
    batch.sealed ??= batch.copy ? batch.copy.finish() : batch.records!;
    batch.copy = undefined;
    batch.records = undefined;
  }

  private async writeAll(): Promise<void> {
    while (this.batches.length > 0) {
      const batch = this.batches[0];
      this.seal(batch);
      try {
        await this.write(batch.sealed!, batch.retry === true);
      } catch (err) {
        batch.retry = true;
        if (!isDataError(err)) throw err;
        if (batch.rows > 1) this.batches.splice(0, 1, ...halves(batch));
        else {
          this.batches.shift();
          this.events.dropped(batch.rows, err);
        }
        continue;
      }
      this.batches.shift();
      this.events.written(batch.rows);
    }
  }

  private async write(batch: Buffer | PredictionRecord[], retry: boolean): Promise<void> {
    if (!Buffer.isBuffer(batch)) {
      // Idempotent as it is: a retry skips the rows an earlier attempt committed.
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
      if (retry) {
        await client.query('begin');
        await client.query('create temporary table if not exists predictions_retry (like predictions) on commit delete rows');
        await copyIn(client, 'predictions_retry', batch);
        await client.query(`insert into predictions (${COLUMNS}) select ${COLUMNS} from predictions_retry on conflict (id) do nothing`);
        await client.query('commit');
      } else await copyIn(client, 'predictions', batch);
      client.release();
    } catch (err) {
      // A connection whose COPY or transaction failed half-way is not reused.
      client.release(err as Error);
      throw err;
    }
  }
}
