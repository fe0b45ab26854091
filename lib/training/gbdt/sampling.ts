// Seeded row and feature subsampling; results come back sorted so histogram passes read rows in memory order.

/** k distinct indices of 0..n-1 drawn uniformly (partial Fisher-Yates), ascending. */
export function sampleIndices(n: number, k: number, rand: () => number): Uint32Array {
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, k).sort();
}

/** The fraction of n as a count of at least one. */
export function sampleSize(n: number, fraction: number): number {
  return Math.max(1, Math.min(n, Math.round(n * fraction)));
}
