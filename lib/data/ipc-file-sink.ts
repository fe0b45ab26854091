// Arrow IPC files written and read a batch at a time, so a whole file is never in memory. Written bytes
// are exactly those `tableToIPC(new Table(batches), 'file')` gives.
import type { FileHandle } from 'node:fs/promises';
import { RecordBatchFileWriter, RecordBatchReader, type RecordBatch } from 'apache-arrow';

/**
 * Reads an Arrow IPC file through random access (footer first), closing the handle at the end. Arrow
 * JS keeps the schema only in the footer, so a file cannot be read front to back as a stream.
 */
export async function* readIpcFile(file: FileHandle): AsyncGenerator<RecordBatch> {
  try {
    const reader = await RecordBatchReader.from(file);
    for await (const batch of reader) yield batch;
  } finally {
    await file.close();
  }
}

const IDLE = Symbol('idle');

export class IpcFileSink {
  private readonly writer = new RecordBatchFileWriter();
  private readonly queue = this.writer[Symbol.asyncIterator]();
  private pending = this.queue.next();

  constructor(private readonly out: (chunk: Uint8Array) => Promise<void>) {}

  async write(batch: RecordBatch): Promise<void> {
    this.writer.write(batch);
    await this.drain();
  }

  /** Writes the footer and hands the last bytes to the sink. */
  async close(): Promise<void> {
    this.writer.close();
    await this.drain();
  }

  /**
   * Hands every byte chunk the writer has queued to the sink before the next batch is written. The
   * writer's queue settles a read synchronously when it holds bytes, so losing the race to an
   * already-resolved promise means the queue is empty; the unsettled read is kept for the next drain.
   */
  private async drain(): Promise<void> {
    for (;;) {
      const next = await Promise.race([this.pending, Promise.resolve(IDLE)]);
      if (next === IDLE || next.done) return;
      this.pending = this.queue.next();
      await this.out(next.value);
    }
  }
}
