// Feature store: a point-in-time training frame (1M label rows x 10M feature rows by default) against
// the same LATERAL join written by hand over the same rows already in Postgres tables, and online
// read latency (one entity, 100 entities) from the Postgres and Redis stores against a bare `SELECT 1`
// and a bare Redis PING in the same run. Needs DATABASE_URL (a scratch database is created and
// dropped) and redis-server on PATH or at /usr/bin/redis-server.
// Scale: BENCH_FRAME_FEATURE_ROWS, BENCH_FRAME_LABEL_ROWS, BENCH_ONLINE_READS.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ingestDataset } from '../lib/data/datasets.js';
import { datasetSource, entity, featureView, type FeatureView } from '../lib/features/declaration.js';
import { buildTrainingFrame } from '../lib/features/offline.js';
import { materializeFeatureView } from '../lib/features/online.js';
import { PostgresOnlineStore, type OnlineStore } from '../lib/features/online-store.js';
import { RedisOnlineStore } from '../lib/features/redis-online-store.js';
import { registerFeatureView } from '../lib/features/registry.js';
import { startRedisServer } from '../lib/runtime/redis-server.js';
import { ArtifactStore } from '../lib/storage/artifacts.js';
import { connectDb, type Db } from '../lib/storage/db.js';
import { migrate } from '../lib/storage/migrate.js';
import { scratchDatabase } from './scratch-db.js';

const FEATURE_ROWS = Number(process.env.BENCH_FRAME_FEATURE_ROWS ?? 10_000_000);
const LABEL_ROWS = Number(process.env.BENCH_FRAME_LABEL_ROWS ?? 1_000_000);
const READS = Number(process.env.BENCH_ONLINE_READS ?? 10_000);
/** About 100 rows per entity in the frame's source. */
const FRAME_ENTITIES = Math.max(1, Math.floor(FEATURE_ROWS / 100));
const ONLINE_ROWS = 500_000;
const ONLINE_ENTITIES = 50_000;
const YEAR_SECONDS = 365 * 86_400;
const BASE = '2025-01-01T00:00:00Z';

if (!process.env.DATABASE_URL) throw new Error('The feature benchmarks need DATABASE_URL (a real Postgres; a scratch database is created and dropped).');

const seconds = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;

/**
 * Deterministic rows: entity `u<k>` with k a multiplicative hash of the row number, event times spread
 * over a year, amounts and segments derived from the row number.
 */
function sourceSql(rows: number, entities: number, base = `timestamptz '${BASE}'`): string {
  return `select 'u' || ((i * 2654435761) % ${entities}) as user_id,
            ${base} + ((i * 40503) % ${YEAR_SECONDS}) * interval '1 second' as event_time,
            ((i * 7919) % 100000) / 100.0::float8 as amount,
            (array['a', 'b', 'c', 'd'])[1 + (i % 4)] as segment
          from generate_series(1::bigint, ${rows}) i`;
}

function labelSql(rows: number, entities: number): string {
  return `select 'u' || ((i * 2246822519) % ${entities}) as user_id,
            timestamptz '${BASE}' + ((i * 3266489917) % ${YEAR_SECONDS}) * interval '1 second' as ts,
            (i % 2)::float8 as label
          from generate_series(1::bigint, ${rows}) i`;
}

function view(name: string, dataset: string): FeatureView {
  return featureView({
    name, description: 'Benchmark view', owner: 'bench', tags: {},
    entity: entity({ name: 'user', joinKey: 'user_id' }),
    source: datasetSource({ dataset, eventTime: 'event_time' }),
    features: [
      { kind: 'value', name: 'amount', column: 'amount' },
      { kind: 'scale', name: 'amount_z', column: 'amount', center: 500, scale: 250 },
      { kind: 'encode', name: 'segment_code', column: 'segment', categories: ['a', 'b', 'c'] },
      { kind: 'aggregate', name: 'txns_7d', fn: 'count', windowSeconds: 7 * 86_400 },
      { kind: 'aggregate', name: 'amount_sum_30d', fn: 'sum', column: 'amount', windowSeconds: 30 * 86_400 },
    ],
    ttlSeconds: 90 * 86_400,
  });
}

/** The frame's join written by hand over plain tables: index, analyze, LATERAL row + LATERAL windows. */
async function handWrittenFrame(db: Db): Promise<number> {
  const t = process.hrtime.bigint();
  await db.query('create index on ref_src (user_id, event_time)');
  await db.query('analyze ref_src');
  await db.query('analyze ref_labels');
  await db.query(
    `create unlogged table ref_frame as
     select l.user_id, l.ts, l.label, r.amount, (r.amount - 500) / 250 as amount_z,
       (array_position(array['a', 'b', 'c'], r.segment) - 1)::float8 as segment_code,
       case when r.event_time is null then null else g.txns_7d end as txns_7d,
       case when r.event_time is null then null else g.amount_sum_30d end as amount_sum_30d
     from ref_labels l
     left join lateral (select s.event_time, s.amount, s.segment from ref_src s
       where s.user_id = l.user_id and s.event_time <= l.ts and s.event_time >= l.ts - interval '90 days'
       order by s.event_time desc limit 1) r on true
     left join lateral (select count(*) filter (where s.event_time >= r.event_time - interval '7 days')::float8 as txns_7d,
         sum(s.amount) filter (where s.event_time >= r.event_time - interval '30 days') as amount_sum_30d
       from ref_src s where r.event_time is not null and s.user_id = l.user_id
         and s.event_time <= r.event_time and s.event_time >= r.event_time - interval '30 days') g on true`,
  );
  return seconds(t);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Latencies (ms) of `n` sequential calls after a warm-up of 200. */
async function latencies(n: number, fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 200; i++) await fn(i);
  const samples = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    samples[i] = Number(process.hrtime.bigint() - t) / 1e6;
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

const scratch = await scratchDatabase('features');
const db = await connectDb(scratch.url, 4);
const artifactDir = await mkdtemp(path.join(os.tmpdir(), 'mlcycle-bench-features-'));
const redisServer = await startRedisServer();
const stores: OnlineStore[] = [];
try {
  await migrate(db);
  const artifacts = new ArtifactStore(artifactDir);
  const deps = { db, artifacts };

  // Training frame.
  let t = process.hrtime.bigint();
  await db.query(`create unlogged table ref_src as ${sourceSql(FEATURE_ROWS, FRAME_ENTITIES)}`);
  await db.query(`create unlogged table ref_labels as ${labelSql(LABEL_ROWS, FRAME_ENTITIES)}`);
  const generateSeconds = seconds(t);
  t = process.hrtime.bigint();
  await ingestDataset(deps, { name: 'bench-txns', sourceUri: 'postgres:default', query: 'select * from ref_src' });
  const labels = await ingestDataset(deps, { name: 'bench-labels', sourceUri: 'postgres:default', query: 'select * from ref_labels' });
  const ingestSeconds = seconds(t);
  const frameView = view('bench_txns', 'bench-txns');
  t = process.hrtime.bigint();
  const frame = await buildTrainingFrame(deps, { labelsVersionId: labels.id, timestampColumn: 'ts', views: [frameView], outputName: 'bench-frame' });
  const frameSeconds = seconds(t);
  const referenceSeconds = await handWrittenFrame(db);
  const { rows: agree } = await db.query<{ n: string }>('select count(*) filter (where amount is not null) as n from ref_frame');
  const present = frame.dataset.rowCount - frame.missing.amount;
  if (Number(agree[0].n) !== present) throw new Error(`The hand-written join found ${agree[0].n} label rows with a value, the frame ${present}.`);
  await db.query('drop table ref_src, ref_labels, ref_frame');

    // Online reads, over the last year up to today so most entities are within their TTL.
  await ingestDataset(deps, { name: 'bench-online', sourceUri: 'postgres:default', query: sourceSql(ONLINE_ROWS, ONLINE_ENTITIES, `date_trunc('day', now()) - interval '365 days'`) });
  const onlineView = view('bench_online', 'bench-online');
  const postgresStore = new PostgresOnlineStore(db);
  const redisStore = await RedisOnlineStore.connect(redisServer.url, db);
  stores.push(postgresStore, redisStore);
  await registerFeatureView(db, postgresStore, onlineView);
  const materialized: Record<string, number> = {};
  for (const store of [postgresStore, redisStore]) {
    t = process.hrtime.bigint();
    await materializeFeatureView({ ...deps, onlineStore: store }, { view: onlineView.name, runId: `bench-${store.backend}` });
    materialized[store.backend] = seconds(t);
    // The next store starts from no digests, so it too writes every entity.
    await db.query('delete from feature_entity_digests');
  }
  const id = (i: number) => `u${(i * 7919) % ONLINE_ENTITIES}`;
  const batch = (i: number) => Array.from({ length: 100 }, (_, k) => id(i * 100 + k));
  const ping = new Redis(redisServer.url);
  ping.on('error', () => {});
  // The stores must agree and hold values, so the benchmark cannot time reads of nothing.
  const [fromPostgres, fromRedis] = await Promise.all([postgresStore, redisStore].map((s) => s.read(onlineView.name, batch(1))));
  if (JSON.stringify(fromPostgres.map((a) => a.values)) !== JSON.stringify(fromRedis.map((a) => a.values))) throw new Error('The Postgres and Redis stores disagree.');
  if (fromRedis.filter((a) => a.status === 'present').length < 90) throw new Error('Fewer than 90 of 100 sampled entities are present.');
  const rows: Array<[string, { p50: number; p99: number }]> = [
    ['Postgres `SELECT 1` (reference)', await latencies(READS, () => db.query('select 1'))],
    ['Postgres store, 1 entity', await latencies(READS, (i) => postgresStore.read(onlineView.name, [id(i)]))],
    ['Postgres store, 100 entities', await latencies(Math.ceil(READS / 5), (i) => postgresStore.read(onlineView.name, batch(i)))],
    ['Redis PING (reference)', await latencies(READS, () => ping.ping())],
    ['Redis store, 1 entity', await latencies(READS, (i) => redisStore.read(onlineView.name, [id(i)]))],
    ['Redis store, 100 entities', await latencies(Math.ceil(READS / 5), (i) => redisStore.read(onlineView.name, batch(i)))],
  ];
  ping.disconnect();
  const pgRef = rows[0][1].p50;
  const redisRef = rows[3][1].p50;
  const scaled = FEATURE_ROWS !== 10_000_000 || LABEL_ROWS !== 1_000_000;

  console.log(
    [
      `## Feature store: point-in-time training frame (${LABEL_ROWS.toLocaleString('en')} label rows x ${FEATURE_ROWS.toLocaleString('en')} feature rows, ${FRAME_ENTITIES.toLocaleString('en')} entities, Postgres)`,
      '',
      scaled ? `Scaled down from 1M x 10M (BENCH_FRAME_LABEL_ROWS, BENCH_FRAME_FEATURE_ROWS) to fit a bounded run on this machine.\n` : '',
      '| step | seconds |',
      '|---|---|',
      `| generate both tables in Postgres (generate_series, once) | ${generateSeconds.toFixed(1)} |`,
      `| ingest them as dataset versions (setup, not part of the frame) | ${ingestSeconds.toFixed(1)} |`,
      `| \`buildTrainingFrame\`: stage both versions, index, LATERAL join, store the frame as a dataset version | ${frameSeconds.toFixed(1)} |`,
      `| reference: the same join written by hand over the same rows already in tables (index, analyze, LATERAL join) | ${referenceSeconds.toFixed(1)} |`,
      `| ratio frame / reference | ${(frameSeconds / referenceSeconds).toFixed(1)}× |`,
      '',
      `Both found a value for ${present.toLocaleString('en')} of ${frame.dataset.rowCount.toLocaleString('en')} label rows (5 features: value, scale, encode, 7-day count, 30-day sum; TTL 90 days).`,
      '',
      `## Feature store: online reads (${ONLINE_ENTITIES.toLocaleString('en')} entities from ${ONLINE_ROWS.toLocaleString('en')} source rows; sequential, one client)`,
      '',
      '| read | p50 ms | p99 ms | p50 / reference |',
      '|---|---|---|---|',
      ...rows.map(([name, l], i) => `| ${name} | ${l.p50.toFixed(3)} | ${l.p99.toFixed(3)} | ${(l.p50 / (i < 3 ? pgRef : redisRef)).toFixed(1)}× |`),
      '',
      `${READS.toLocaleString('en')} single-entity reads and ${Math.ceil(READS / 5).toLocaleString('en')} 100-entity reads per store, after 200 warm-up reads; ` +
        `Postgres rows against \`SELECT 1\` on the same pool, Redis rows against PING on the same server. ` +
        `A Postgres store read is two queries (the view's declaration, then the rows); a Redis store read is one MGET (the view's meta and the entities' keys). ` +
        `Full materialization of the ${ONLINE_ENTITIES.toLocaleString('en')} entities: Postgres ${materialized.postgres.toFixed(1)} s, Redis ${materialized.redis.toFixed(1)} s.`,
      '',
    ].filter((l, i, all) => l !== '' || all[i - 1] !== '').join('\n'),
  );
} finally {
  for (const s of stores) await s.close();
  await redisServer.stop();
  await db.end();
  await scratch.drop();
  await rm(artifactDir, { recursive: true, force: true });
}
