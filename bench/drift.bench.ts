// Drift report over 1M logged predictions x 10 numeric features, aggregated in Postgres (width_bucket,
// percentile_cont, null counts) and judged in Node, against a plain `select count(*)` over the same rows.
// Needs DATABASE_URL (a real Postgres; a scratch database is created and dropped); without it the
// embedded PGlite is used, which is much slower and not what the 5 s target is about.
import { connectDb } from '../lib/storage/db.js';
import { migrate } from '../lib/storage/migrate.js';
import { assessDrift, buildTrainingProfile, aggregateWindowInSql } from '../lib/monitoring/index.js';
import { gaussian, seededRandom } from '../lib/util/random.js';
import { scratchDatabase } from './scratch-db.js';

const ROWS = Number(process.env.BENCH_DRIFT_ROWS ?? 1_000_000);
const FEATURES = Array.from({ length: 10 }, (_, i) => `f${i}`);

const scratch = await scratchDatabase('drift');
const db = await connectDb(scratch.url, 2);
try {
  await migrate(db);
  // 1M rows in one statement: feature j ~ N(j, 1), every 50th value null; the second half shifted by 0.5 on f0.
  let t = process.hrtime.bigint();
  await db.query(
    `insert into predictions (id, at, model_name, version, arm, inputs, outputs, latency_ms)
     select gen_random_uuid(), now() - interval '1 minute' + (i * interval '1 microsecond'), 'bench', 1, 'stable',
       (select jsonb_object_agg('f' || j, case when (i + j) % 50 = 0 then null
          else j + (case when j = 0 and i > $1 / 2 then 0.5 else 0 end) + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) end)
        from generate_series(0, 9) j),
       jsonb_build_object('label', 'no', 'probabilities', jsonb_build_object('no', 0.7, 'yes', 0.3)), 1.5
     from generate_series(1, $1) i`,
    [ROWS],
  );
  await db.query('analyze predictions');
  const insertSeconds = Number(process.hrtime.bigint() - t) / 1e9;

  const rand = seededRandom(1);
  const reference = Object.fromEntries(FEATURES.map((f, j) => [f, { kind: 'numeric' as const, values: Array.from({ length: 20_000 }, () => j + gaussian(rand)) }]));
  const profile = buildTrainingProfile({ features: reference });
  const spec = { modelName: 'bench', version: 1, start: new Date(Date.now() - 3_600_000), end: new Date(Date.now() + 60_000) };

  const runs: number[] = [];
  const counts: number[] = [];
  let status = '';
  for (let r = 0; r < 3; r++) {
    t = process.hrtime.bigint();
    await db.query('select count(*) from predictions where model_name = $1 and version = $2 and at >= $3 and at < $4', [spec.modelName, spec.version, spec.start, spec.end]);
    counts.push(Number(process.hrtime.bigint() - t) / 1e9);
    t = process.hrtime.bigint();
    const window = await aggregateWindowInSql(db, profile, spec);
    const verdict = assessDrift(profile, window.aggregates);
    runs.push(Number(process.hrtime.bigint() - t) / 1e9);
    status = `${verdict.status} (drifted: ${verdict.numbers.drifted.join(', ') || 'none'}; ${window.rows} rows)`;
  }
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const report = median(runs);
  const scan = median(counts);
  console.log(
    [
      `## Drift report (${ROWS.toLocaleString('en')} logged predictions x ${FEATURES.length} numeric features, ${scratch.kind})`,
      '',
      '| step | seconds |',
      '|---|---|',
      `| insert (generate_series, once) | ${insertSeconds.toFixed(2)} |`,
      `| \`select count(*)\` over the window | ${scan.toFixed(2)} |`,
      `| drift report (SQL aggregation + verdict) | ${report.toFixed(2)} |`,
      `| ratio report / count(*) | ${(report / scan).toFixed(1)}× |`,
      '',
      `Target: <= 5 s for the report. Verdict on the synthetic window: ${status}. Median of 3 runs. Command: \`npm run bench -- drift\`.`,
      '',
    ].join('\n'),
  );
} finally {
  await db.end();
  await scratch.drop();
}
