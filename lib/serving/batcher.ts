// Micro-batching: concurrent requests for the same key (a model version's session) are scored in one call.
// A key has at most one scoring call in flight. A request that finds its key idle is scored at once (with
// `maxWaitMs` 0), so a lone caller never waits for company; requests that arrive while a call runs queue up and
// go together in the next call as soon as it returns, up to `maxBatchRows` rows per call. Batches thus grow with
// load on their own, without a timer on the request path. Every request gets back exactly its own slice of results.

export interface BatchOptions {
  /** Rows per scoring call at most; a single larger request is scored alone. */
  maxBatchRows: number;
  /** How long a request that finds its key idle waits for company before its call starts; 0 = none. */
  maxWaitMs: number;
}

export const DEFAULT_BATCH_OPTIONS: BatchOptions = { maxBatchRows: 256, maxWaitMs: 0 };

interface Pending<I, O> {
  input: I;
  n: number;
  resolve: (out: O[]) => void;
  reject: (err: unknown) => void;
}

interface KeyQueue<I, O> {
  items: Array<Pending<I, O>>;
  rows: number;
  running: boolean;
  timer?: NodeJS.Timeout;
}

/** Scores the concatenation of several requests' inputs; must return exactly `totalRows` results in order. */
export type BatchRunner<I, O> = (key: string, inputs: Array<{ input: I; n: number }>, totalRows: number) => Promise<O[]>;

export class MicroBatcher<I, O> {
  private readonly queues = new Map<string, KeyQueue<I, O>>();
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
        q = { items: [], rows: 0, running: false };
        this.queues.set(key, q);
      }
      q.items.push({ input, n, resolve, reject });
      q.rows += n;
      // While a call runs, the queue waits for it: its return starts the next call.
      if (q.running) return;
      if (this.options.maxWaitMs === 0 || q.rows >= this.options.maxBatchRows) this.dispatch(key, q);
      else q.timer ??= setTimeout(() => this.dispatch(key, q), this.options.maxWaitMs);
    });
  }

  /** Starts one call with the queued requests that fit in a batch (at least the first). */
  private dispatch(key: string, q: KeyQueue<I, O>): void {
    if (q.timer) {
      clearTimeout(q.timer);
      q.timer = undefined;
    }
    if (q.items.length === 0) {
      this.queues.delete(key);
      return;
    }
    let take = 1;
    let rows = q.items[0].n;
    while (take < q.items.length && rows + q.items[take].n <= this.options.maxBatchRows) rows += q.items[take++].n;
    const items = q.items.length === take ? q.items : q.items.slice(0, take);
    q.items = q.items.length === take ? [] : q.items.slice(take);
    q.rows -= rows;
    q.running = true;
    this.onBatch?.(key, items.length, rows);
    let outputs: Promise<O[]>;
    try {
      outputs = this.runner(
        key,
        items.map((p) => ({ input: p.input, n: p.n })),
        rows,
      );
    } catch (err) {
      outputs = Promise.reject(err);
    }
    const settle = (out: O[] | undefined, err: unknown) => {
      // Free the key first: the next queued batch starts below, before any answer is heard.
      q.running = false;
      if (out && out.length !== rows) err = new Error(`Batch runner returned ${out.length} results for ${rows} rows`);
      if (err !== undefined || !out) for (const p of items) p.reject(err);
      else if (items.length === 1) items[0].resolve(out);
      else {
        let offset = 0;
        for (const p of items) {
          p.resolve(out.slice(offset, offset + p.n));
          offset += p.n;
        }
      }
      this.dispatch(key, q);
    };
    outputs.then(
      (out) => settle(out, undefined),
      (err: unknown) => settle(undefined, err ?? new Error('Batch runner failed')),
    );
  }
}
