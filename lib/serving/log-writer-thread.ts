// The prediction log's writer thread: takes predictions posted by lib/serving/prediction-log.ts, encodes them as
// binary COPY rows and writes them to Postgres on its own connection, so neither the encoding nor the socket
// writes run on the thread that answers requests. It reports every committed batch, so the serving thread's
// count of queued rows (and its load shedding) stays exact.
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { LogWriter, type LogWriterOptions, type PredictionRecord } from './log-batches.js';

export interface LogThreadData extends LogWriterOptions {
  databaseUrl: string;
}

/** Serving thread -> writer thread. */
export type ToLogThread = { type: 'records'; records: PredictionRecord[] } | { type: 'flush'; id: number } | { type: 'close' };

/** Writer thread -> serving thread. */
export type FromLogThread =
  | { type: 'written'; rows: number }
  | { type: 'dropped'; rows: number; message: string }
  | { type: 'failed'; message: string }
  | { type: 'flushed'; id: number };

const port = parentPort!;
const data = workerData as LogThreadData;
const post = (m: FromLogThread) => port.postMessage(m);
const pool = new pg.Pool({ connectionString: data.databaseUrl, max: 1, connectionTimeoutMillis: 10_000 });
// A dropped idle connection must not end the thread; the next write reconnects.
pool.on('error', () => {});
const writer = new LogWriter(pool, data, {
  written: (rows) => post({ type: 'written', rows }),
  dropped: (rows, err) => post({ type: 'dropped', rows, message: String((err as Error)?.message ?? err) }),
  failed: (err) => post({ type: 'failed', message: String((err as Error)?.message ?? err) }),
});

port.on('message', (m: ToLogThread) => {
  if (m.type === 'records') writer.add(m.records);
  else if (m.type === 'flush') void writer.flush().then(() => post({ type: 'flushed', id: m.id }));
  else {
    writer.stop();
    void pool.end().finally(() => port.close());
  }
});
