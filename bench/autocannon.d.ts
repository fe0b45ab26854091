// autocannon ships no types: the part of its programmatic API the HTTP benchmarks use.
declare module 'autocannon' {
  interface Histogram {
    average: number;
    total: number;
    p50: number;
    p99: number;
  }
  export interface Result {
    requests: Histogram;
    latency: Histogram;
    non2xx: number;
    errors: number;
    timeouts: number;
  }
  export interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    workers?: number;
    /** Requests per second over all connections. */
    overallRate?: number;
  }
  export default function autocannon(options: Options): Promise<Result>;
}
