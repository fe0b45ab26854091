// The dataset profile reads canonical float64 and timestamp columns straight from their buffers: it must see
// exactly the values `get` would, through nulls, slices (non-zero offsets) and negative or large timestamps.
import { Float64, Int32, Table, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { profileBatches } from '../../../lib/data/profile.js';
import { buildNumericProfile } from '../../../lib/monitoring/profile.js';

const times = [null, -86_400_000 * 365 * 100, -1, 0, 1_700_000_000_123, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER - 1, null, 1_000, 4_294_967_296];
const xs = [1.5, null, Number.NaN, -0, 3, 2, Number.POSITIVE_INFINITY, 7, null, 1.5];
const ints = [3, 1, null, 2, 2, 5, 8, null, 1, 0];
const cats = ['a', null, 'b', 'a', 'a', 'c', null, 'b', 'a', 'a'];

const table = new Table({
  at: vectorFromArray(times, new TimestampMillisecond()),
  x: vectorFromArray(xs, new Float64()),
  n: vectorFromArray(ints, new Int32()),
  c: vectorFromArray(cats, new Utf8()),
});
const specs = [
  { name: 'at', type: 'timestamp' as const },
  { name: 'x', type: 'float64' as const },
  { name: 'n', type: 'float64' as const },
  { name: 'c', type: 'utf8' as const },
];

/** What the profile must say of a numeric column, computed from the plain array of its values. */
function expected(values: Array<number | null>) {
  const present = values.filter((v): v is number => v !== null);
  const stats = buildNumericProfile(present);
  stats.missingCount += values.length - present.length;
  return { nullCount: values.length - present.length, stats };
}

describe('profileBatches', () => {
  it('reads float64 and timestamp buffers as get() would, across nulls and slices', async () => {
    // Batches cut at odd places, so every chunk but the first has a non-zero offset into its buffers.
    const cuts = [0, 3, 4, 9, 10];
    const batches = cuts.slice(1).flatMap((end, k) => table.slice(cuts[k], end).batches);
    expect(batches.some((b) => b.getChild('at')!.data[0].offset > 0)).toBe(true);
    const profile = await profileBatches(async function* () { yield* batches; }, specs, 10);
    const byName = Object.fromEntries(profile.columns.map((c) => [c.name, c]));
    for (const [name, values] of [['at', times], ['x', xs], ['n', ints]] as const) {
      const e = expected(values as Array<number | null>);
      expect(byName[name].nullCount, name).toBe(e.nullCount);
      expect(byName[name].stats, name).toEqual(e.stats);
    }
    expect(byName.at.stats).toMatchObject({ min: -86_400_000 * 365 * 100, max: Number.MAX_SAFE_INTEGER - 1 });
    // 1.5 (twice), NaN, -0, 3, 2, Infinity, 7.
    expect(byName.x.distinctCount).toBe(7);
    expect(byName.c).toMatchObject({ nullCount: 2, distinctCount: 3, stats: { categoryCounts: { a: 5, b: 2, c: 1 } } });
  });
});
