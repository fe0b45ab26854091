// Seeded pseudo-random numbers so that bootstrap results are reproducible from a seed.

/** A source of uniform floats in [0, 1). */
export type Random = () => number;

/**
 * mulberry32: a tiny 32-bit generator, plenty for resampling indices
 * (not for cryptography). Same seed, same sequence, on every platform.
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [0, n). The modulo bias is below 2^-32 * n, negligible for row counts. */
export function randomIndex(random: Random, n: number): number {
  return Math.floor(random() * n);
}
