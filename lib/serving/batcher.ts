// Micro-batching: concurrent requests for the same key (a model version's session) are scored in one call.
// A batch closes when it holds `maxBatchRows` rows or `maxWaitMs` after its first request; every request
// gets back exactly the slice of results for its own rows.

export interface BatchOptions {
  /** Rows per scoring call at most; a single larger request is scored alone. */
  maxBatchRows: number;
  /** How long the first request of a batch waits for company; 0 = only requests already queued in this turn of the event loop. */
  maxWaitMs: number;
}

export const DEFAULT_BATCH_OPTIONS: BatchOptions = { maxBatchRows: 256, maxWaitMs: 1 };

interface Pending<I, O> {
  input: I;
  n: number;
  resolve: (out: O[]) => void;
  reject: (err: unknown) => void;
}

/** Scores the concatenation of several requests' inputs; must return exactly `totalRows` results in order. */
export type BatchRunner<I, O> = (key: string, inputs: Array<{ input: I; n: number }>, totalRows: number) => Promise<O[]>;

export class MicroBatcher<I, O> {
  private readonly queues = new Map<string, { items: Array<Pending<I, O>>; rows: number; timer?: NodeJS.Timeout | NodeJS.Immediate }>();
  /** Sizes of the batches run, for metrics: called once per scoring call with (key, requests, rows). */
  onBatch?: (key: string, requests: number, rows: number) => void;

  constructor(
    private readonly runner: BatchRunner<I, O>,
    readonly options: BatchOptions = DEFAULT_BATCH_OPTIONS,
  ) {}

  /** Queues `n` rows under `key`; resolves with this request's `n` results. */
  submit(key: string, input: I, n: number): Promise<O[]> {
    return new Promise<O[]>((resolve, reject) => {
      let q = this.queues.get(key);
      if (!q) {
        q = { items: [], rows: 0 };
        this.queues.set(key, q);
      }
      if (q.items.length > 0 && q.rows + n > this.options.maxBatchRows) this.flush(key);
      q = this.queues.get(key) ?? { items: [], rows: 0 };
      this.queues.set(key, q);
      q.items.push({ input, n, resolve, reject });
      q.rows += n;
      if (q.rows >= this.options.maxBatchRows) this.flush(key);
      else if (!q.timer) {
        q.timer = this.options.maxWaitMs > 0 ? setTimeout(() => this.flush(key), this.options.maxWaitMs) : setImmediate(() => this.flush(key));
      }
    });
  }

  private flush(key: string): void {
    const q = this.queues.get(key);
    if (!q || q.items.length === 0) return;
    this.queues.delete(key);
    if (q.timer) {
      clearTimeout(q.timer as NodeJS.Timeout);
      clearImmediate(q.timer as NodeJS.Immediate);
    }
    const items = q.items;
    this.onBatch?.(key, items.length, q.rows);
    let outputs: Promise<O[]>;
    try {
      outputs = this.runner(
        key,
        items.map((p) => ({ input: p.input, n: p.n })),
        q.rows,
      );
    } catch (err) {
      outputs = Promise.reject(err);
    }
    outputs.then(
      (out) => {
        if (out.length !== q.rows) {
          const err = new Error(`Batch runner returned ${out.length} results for ${q.rows} rows`);
          for (const p of items) p.reject(err);
          return;
        }
        let offset = 0;
        for (const p of items) {
          p.resolve(out.slice(offset, offset + p.n));
          offset += p.n;
        }
      },
      (err) => {
        for (const p of items) p.reject(err);
      },
    );
  }
}
