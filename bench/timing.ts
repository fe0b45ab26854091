// Small timing helpers for benchmarks: warm up, repeat, report the median per operation.

export interface Timing {
  /** Median nanoseconds per operation over the repeats. */
  medianNs: number;
  opsPerRepeat: number;
  repeats: number;
}

/** Runs `fn` `ops` times per repeat after a warm-up; returns the median time per op. */
export async function measure(fn: () => unknown | Promise<unknown>, ops: number, repeats = 7): Promise<Timing> {
  for (let i = 0; i < Math.min(ops, 200); i++) await fn();
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) await fn();
    samples.push(Number(process.hrtime.bigint() - start) / ops);
  }
  samples.sort((a, b) => a - b);
  return { medianNs: samples[Math.floor(samples.length / 2)], opsPerRepeat: ops, repeats };
}

export function formatNs(ns: number): string {
  if (ns < 1e3) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}
