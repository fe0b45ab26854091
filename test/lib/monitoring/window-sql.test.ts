// The window aggregated by SQL (the prediction log in Postgres) must equal the window aggregated in Node
// from the same values: same bins, missing counts, sketches and categories. Runs in the embedded PGlite.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../../lib/runtime/embedded-postgres.js';
import { freePort } from '../../../lib/runtime/ports.js';
import { connectDb, type Db } from '../../../lib/storage/db.js';
import { migrate } from '../../../lib/storage/migrate.js';
import type { RawValue } from '../../../lib/monitoring/column-values.js';
import { buildTrainingProfile } from '../../../lib/monitoring/profile.js';
import { aggregateWindow } from '../../../lib/monitoring/window.js';
import { aggregateWindowInSql, SKETCH_SAMPLE_ROWS, windowAggregateQueries } from '../../../lib/monitoring/window-sql.js';
import { categoricalSample, normalSample, withMissing } from './synthetic.js';

let pg: EmbeddedPostgres;
let db: Db;

beforeAll(async () => {
  pg = await startEmbeddedPostgres({ port: await freePort() });
  db = await connectDb(pg.url, 2);
  await migrate(db);
}, 120_000);

afterAll(async () => {
  await db?.end();
  await pg?.stop();
});

const start = new Date('2026-01-01T00:00:00Z');
const end = new Date('2026-01-01T01:00:00Z');

async function log(rows: Array<{ model?: string; version?: number; at?: Date; inputs: Record<string, unknown>; outputs: Record<string, unknown> }>): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const values: unknown[] = [];
    const tuples = chunk.map((r, j) => {
      values.push(randomUUID(), r.at ?? new Date(start.getTime() + 1000 + i + j), r.model ?? 'm', r.version ?? 1, JSON.stringify(r.inputs), JSON.stringify(r.outputs));
      const p = j * 6;
      return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, 'stable', $${p + 5}, $${p + 6}, 1)`;
    });
    await db.query(`insert into predictions (id, at, model_name, version, arm, inputs, outputs, latency_ms) values ${tuples.join(', ')}`, values);
  }
}

describe('aggregateWindowInSql', () => {
  it('gives the aggregates aggregateWindow computes from the same values', async () => {
    const training = buildTrainingProfile({
      features: {
        income: { kind: 'numeric', values: normalSample(3000, 1, 50, 10) },
        score: { kind: 'numeric', values: Array.from({ length: 3000 }, (_, i) => i % 7) },
        region: { kind: 'categorical', values: categoricalSample(3000, 2, { north: 3, south: 2, ['__proto__']: 1 }) },
      },
      output: { task: 'classification', predictedClass: categoricalSample(3000, 3, { no: 3, yes: 1 }), probabilities: { yes: normalSample(3000, 4, 0.3, 0.1) } },
    });
    const n = 1500;
    const income: RawValue[] = withMissing(normalSample(n, 5, 55, 12), 0.05, 6);
    // Values exactly on the profile's edges fall in the bin that starts there.
    training.features.income.kind === 'numeric' && training.features.income.binEdges.forEach((edge, i) => (income[i] = edge));
    const score: RawValue[] = Array.from({ length: n }, (_, i) => (i % 9) - 1);
    const region: RawValue[] = withMissing(categoricalSample(n, 7, { north: 1, south: 1, east: 1, ['__proto__']: 1 }), 0.1, 8);
    const label = categoricalSample(n, 9, { no: 1, yes: 1 });
    const yes: RawValue[] = withMissing(normalSample(n, 10, 0.5, 0.1), 0.02, 11);
    // Not numbers in numeric columns read as missing; numbers in a categorical column read as their text.
    const strays: Array<[number, string, unknown]> = [[3, 'income', 'n/a'], [4, 'income', true], [5, 'score', '7'], [6, 'region', 12]];
    const rows = Array.from({ length: n }, (_, i) => ({
      inputs: { income: income[i], score: score[i], region: region[i] } as Record<string, unknown>,
      outputs: { label: label[i], probabilities: { no: 1 - Number(yes[i]), yes: yes[i] } },
    }));
    for (const [i, column, value] of strays) {
      rows[i].inputs[column] = value;
      if (column === 'region') region[i] = String(value);
      else (column === 'income' ? income : score)[i] = null;
    }
    delete rows[10].inputs.score;
    score[10] = null;
    await log(rows);
    // Other versions, models and times are not in the window.
    await log([
      { version: 2, inputs: { income: 1e9, score: 1, region: 'x' }, outputs: { label: 'no' } },
      { model: 'other', inputs: { income: 1e9, score: 1, region: 'x' }, outputs: { label: 'no' } },
      { at: end, inputs: { income: 1e9, score: 1, region: 'x' }, outputs: { label: 'no' } },
    ]);

    const inSql = await aggregateWindowInSql(db, training, { modelName: 'm', version: 1, start, end });
    const inNode = aggregateWindow(training, { features: { income, score, region }, output: { task: 'classification', predictedClass: label, probabilities: { yes } } });
    expect(inSql.rows).toBe(n);
    expect(inSql.aggregates.features).toEqual(inNode.features);
    const { quantiles: sqlYes, ...sqlRest } = inSql.aggregates.outputs['probability:yes'] as { quantiles: number[] };
    const { quantiles: nodeYes, ...nodeRest } = inNode.outputs['probability:yes'] as { quantiles: number[] };
    expect(sqlRest).toEqual(nodeRest);
    sqlYes.forEach((q, i) => expect(q).toBeCloseTo(nodeYes[i], 12));
    expect(inSql.aggregates.outputs.predicted_class).toEqual(inNode.outputs.predicted_class);
    expect(Object.hasOwn((inSql.aggregates.features.region as { categoryCounts: object }).categoryCounts, '__proto__')).toBe(true);
  });

  it('an empty window has zero counts and no sketch', async () => {
    const training = buildTrainingProfile({ features: { x: { kind: 'numeric', values: normalSample(100, 1) }, c: { kind: 'categorical', values: categoricalSample(100, 2, { a: 1, b: 1 }) } } });
    const window = await aggregateWindowInSql(db, training, { modelName: 'nobody', version: 1, start, end });
    expect(window.rows).toBe(0);
    expect(window.aggregates.features.x).toEqual({ kind: 'numeric', missingCount: 0, binCounts: new Array(12).fill(0), quantiles: null });
    expect(window.aggregates.features.c).toEqual({ kind: 'categorical', missingCount: 0, categoryCounts: {} });
  });

  it('samples the sketch of a large window by id hash, never the bins', () => {
    const training = buildTrainingProfile({ features: { x: { kind: 'numeric', values: normalSample(100, 1) } } });
    const large = windowAggregateQueries(training, { modelName: 'm', version: 1, start, end }, SKETCH_SAMPLE_ROWS * 10);
    expect(large.sketches!.text).toMatch(/hashtext\(id::text\)/);
    expect(large.bins.text).not.toMatch(/hashtext/);
    const small = windowAggregateQueries(training, { modelName: 'm', version: 1, start, end }, SKETCH_SAMPLE_ROWS);
    expect(small.sketches!.text).not.toMatch(/hashtext/);
  });
});
