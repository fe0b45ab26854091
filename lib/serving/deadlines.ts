// Deadlines for online scoring calls: the fallback path needs to know when a version has not answered in time,
// and a timer plus a race per request costs more on the serving thread than the rest of the bookkeeping.
import { ScoringTimeoutError } from '../errors.js';

interface Deadline {
  at: number;
  ms: number;
  what: string;
  /** Null once the call answered or timed out. */
  reject: ((err: Error) => void) | null;
}

/**
 * Deadlines for scoring calls: a call that has not answered `options.timeoutMs` after it started is rejected
 * with ScoringTimeoutError. One timer, armed for the earliest pending deadline, stands in for a timer per call.
 * Calls mostly answer in the order they started, so answered ones are dropped from the front of the queue.
 */
export class Deadlines {
  private queue: Deadline[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;

  // Read per call: tests change the timeout of a running service.
  constructor(private readonly options: { timeoutMs: number }) {}

  race<T>(p: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const now = performance.now();
      const ms = this.options.timeoutMs;
      const d: Deadline = { at: now + ms, ms, what, reject };
      this.queue.push(d);
      if (this.timer === undefined || d.at < this.timerAt) this.arm(d.at, now);
      p.then(
        (value) => {
          if (d.reject === null) return;
          this.done(d);
          resolve(value);
        },
        (err: unknown) => {
          if (d.reject === null) return;
          this.done(d);
          reject(err);
        },
      );
    });
  }

  private done(d: Deadline): void {
    d.reject = null;
    const q = this.queue;
    while (this.head < q.length && q[this.head].reject === null) this.head++;
    if (this.head === q.length) {
      this.queue = [];
      this.head = 0;
      clearTimeout(this.timer);
      this.timer = undefined;
    } else if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }

  private arm(at: number, now: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(1, Math.ceil(at - now)));
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    const expired: Deadline[] = [];
    let next = Infinity;
    for (let i = this.head; i < this.queue.length; i++) {
      const d = this.queue[i];
      if (d.reject === null) continue;
      if (d.at <= now) expired.push(d);
      else if (d.at < next) next = d.at;
    }
    for (const d of expired) {
      const reject = d.reject!;
      this.done(d);
      reject(new ScoringTimeoutError(`${d.what} did not answer within ${d.ms} ms.`));
    }
    if (next !== Infinity && this.timer === undefined) this.arm(next, now);
  }
}
