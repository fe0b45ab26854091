// The window is aggregated in SQL; these checks run the same SQL in PGlite (in-process Postgres)
// to prove width_bucket and percentile_cont cut data exactly as the profile does.

import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binIndex, quantileLevels, quantileSketch } from '../../../lib/monitoring/binning.js';
import { buildNumericProfile } from '../../../lib/monitoring/profile.js';
import { normalSample } from './synthetic.js';

let db: PGlite;

beforeAll(async () => {
  db = new PGlite();
  await db.waitReady;
}, 60_000);

afterAll(async () => {
  await db.close();
});

describe('profile edges and sketch levels in Postgres', () => {
  it('width_bucket puts every value in the bin binIndex does, edges passed through jsonb', async () => {
    const training = [...normalSample(2000, 11), 3, 3, 3, -0.5, -0.5];
    const profile = buildNumericProfile(training);
    // Values exactly on edges, just around the training range, and far outside it.
    const probes = [...profile.binEdges, profile.min!, profile.max!, profile.max! + 1e-12, profile.min! - 1e-12, -1e6, 1e6, 0, 3, -0.5];
    const { rows } = await db.query<{ x: number; bucket: number }>(
      `SELECT x, width_bucket(x, ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::float8)) AS bucket
         FROM unnest($2::float8[]) AS x`,
      [JSON.stringify(profile.binEdges), probes],
    );
    for (const row of rows) expect(row.bucket, `x = ${row.x}`).toBe(binIndex(profile.binEdges, row.x));
  });

  it('percentile_cont at quantileLevels gives the same sketch as quantileSketch', async () => {
    const values = Array.from(normalSample(997, 12), (x) => Math.round(x * 100) / 100);
    const { rows } = await db.query<{ q: number[] }>(
      `SELECT percentile_cont($1::float8[]) WITHIN GROUP (ORDER BY x) AS q FROM unnest($2::float8[]) AS x`,
      [quantileLevels(100), values],
    );
    const expected = quantileSketch(Float64Array.from(values).sort(), 100);
    rows[0].q.forEach((q, i) => expect(q).toBeCloseTo(expected[i], 12));
  });
});
