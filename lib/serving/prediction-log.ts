// The prediction log: every answered prediction is queued here and written to Postgres in batches
// (lib/serving/log-batches.ts). On a real Postgres the batches are encoded and sent by COPY in a writer thread
// (lib/serving/log-writer-thread.ts); the serving thread only hands rows over, a few milliseconds' worth at a
// time, which keeps encoding and socket writes off the request path. On the embedded PGlite (in this process
// anyway, and without COPY FROM STDIN) they are written here by INSERT. The queue is bounded across both
// threads: when it is full the caller sheds load instead of dropping rows or growing memory.
import type { Worker } from 'node:worker_threads';
import { startTsThread } from '../runtime/ts-thread.js';
import type { Db } from '../storage/db.js';
import { LogWriter, type LogWriterEvents, type PredictionRecord, type WriteMethod } from './log-batches.js';
import type { FromLogThread, LogThreadData, ToLogThread } from './log-writer-thread.js';

export type { PredictionRecord, WriteMethod } from './log-batches.js';

export interface PredictionLogOptions {
  method: WriteMethod;
  /** Rows held at most (queued here or in the writer thread); `append` refuses beyond it. */
  maxQueue: number;
  /** Rows per write. */
  batchSize: number;
  flushIntervalMs: number;
  onError?: (err: unknown) => void;
}

export const DEFAULT_LOG_OPTIONS: Omit<PredictionLogOptions, 'method'> = { maxQueue: 50_000, batchSize: 2_000, flushIntervalMs: 200 };

/** Where appended rows go: written in this thread, or handed to the writer thread. */
interface LogSink {
  add(records: PredictionRecord[]): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export class PredictionLog {
  private queued = 0;
  private closed = false;
  private readonly sink: LogSink;
  readonly options: PredictionLogOptions;
  written = 0;

  /** `db` must be a pool opened from a connection string when `method` is `copy` (the writer thread opens its own). */
  constructor(db: Db, options: Partial<PredictionLogOptions> & { method: WriteMethod }) {
    this.options = { ...DEFAULT_LOG_OPTIONS, ...options };
    const events: LogWriterEvents = {
      written: (rows) => {
        this.queued -= rows;
        this.written += rows;
      },
      dropped: (rows, err) => {
        this.queued -= rows;
        this.options.onError?.(err);
      },
      failed: (err) => this.options.onError?.(err),
    };
    if (this.options.method === 'insert') {
      const writer = new LogWriter(db, this.options, events);
      this.sink = { add: (records) => writer.add(records), flush: () => writer.flush(), close: async () => writer.stop() };
    } else {
      const databaseUrl = (db as { options?: { connectionString?: string } }).options?.connectionString;
      if (!databaseUrl) throw new Error('The COPY prediction log needs a pool opened from a connection string (its writer thread connects on its own).');
      this.sink = new ThreadSink({ databaseUrl, method: 'copy', batchSize: this.options.batchSize, flushIntervalMs: this.options.flushIntervalMs }, events);
    }
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
    this.queued += records.length;
    this.sink.add(records);
    return true;
  }

  /** Writes everything appended so far; failures are reported to `onError` and the rows stay queued. */
  flush(): Promise<void> {
    return this.sink.flush();
  }

  /** Stops taking rows and writes what is queued; retries a failing write a few times before giving up. */
  async close(): Promise<void> {
    this.closed = true;
    for (let attempt = 0; attempt < 5 && this.queued > 0; attempt++) {
      await this.flush();
      if (this.queued > 0) await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
    await this.sink.close();
  }
}

const ENTRY = new URL('./log-writer-thread.ts', import.meta.url);
/** Rows handed over in one message at most, and how long the first of them waits for company. */
const HANDOFF_ROWS = 256;
const HANDOFF_MS = 5;

/**
 * Hands rows to the writer thread in small batches (one structured clone per message is far cheaper than
 * encoding each row here). The thread starts with the first rows, so an app that never scores has none.
 */
class ThreadSink implements LogSink {
  private worker: Worker | undefined;
  private pending: PredictionRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Rows handed to the thread and not yet reported written or dropped. */
  private inThread = 0;
  private nextFlush = 0;
  private readonly flushes = new Map<number, () => void>();
  private closing = false;

  constructor(
    private readonly data: LogThreadData,
    private readonly events: LogWriterEvents,
  ) {}

  add(records: PredictionRecord[]): void {
    for (const r of records) this.pending.push(r);
    if (this.pending.length >= HANDOFF_ROWS) this.handOff();
    else this.timer ??= setTimeout(() => this.handOff(), HANDOFF_MS);
  }

  private handOff(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    this.inThread += records.length;
    this.send({ type: 'records', records });
  }

  private send(m: ToLogThread): void {
    this.thread().postMessage(m);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = startTsThread(ENTRY, { ...this.data });
    // Like the flush timer it replaces, the thread alone does not keep the process alive; close() ends it.
    worker.unref();
    worker.on('message', (m: FromLogThread) => {
      if (m.type === 'written') {
        this.inThread -= m.rows;
        this.events.written(m.rows);
      } else if (m.type === 'dropped') {
        this.inThread -= m.rows;
        this.events.dropped(m.rows, new Error(`Prediction log rows left out: ${m.message}`));
      } else if (m.type === 'failed') this.events.failed(new Error(m.message));
      else this.settle(m.id);
    });
    worker.on('error', (err) => this.events.failed(err));
    worker.once('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (!this.closing && this.inThread > 0) {
        this.events.dropped(this.inThread, new Error(`The prediction log writer thread stopped holding ${this.inThread} rows; they are lost.`));
      }
      this.inThread = 0;
      for (const id of [...this.flushes.keys()]) this.settle(id);
    });
    this.worker = worker;
    return worker;
  }

  private settle(id: number): void {
    const done = this.flushes.get(id);
    this.flushes.delete(id);
    done?.();
  }

  flush(): Promise<void> {
    this.handOff();
    if (!this.worker) return Promise.resolve();
    const id = ++this.nextFlush;
    return new Promise<void>((resolve) => {
      this.flushes.set(id, resolve);
      this.send({ type: 'flush', id });
    });
  }

  async close(): Promise<void> {
    this.handOff();
    const worker = this.worker;
    if (!worker) return;
    this.closing = true;
    const exited = new Promise((r) => worker.once('exit', r));
    worker.postMessage({ type: 'close' } satisfies ToLogThread);
    await exited;
  }
}
