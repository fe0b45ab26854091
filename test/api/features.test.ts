// Feature store on real Postgres, Temporal and redis-server: point-in-time training frames (a planted
// future value is not used, TTL gives missing, the created-time guard stops a backfill leaking), the
// registry, and for each online backend (Postgres, Redis) the materialize workflow through the API,
// incremental and late-backfill runs, online TTL/staleness, and online/offline parity.
import { tableFromArrays } from 'apache-arrow';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.js';
import { ingestDataset, loadDatasetTable } from '../../lib/data/datasets.js';
import { featureView, entity, datasetSource, type FeatureView } from '../../lib/features/declaration.js';
import { buildTrainingFrame } from '../../lib/features/offline.js';
import { materializeFeatureView, type OnlineFeatures } from '../../lib/features/online.js';
import type { OnlineStore } from '../../lib/features/online-store.js';
import { RedisOnlineStore } from '../../lib/features/redis-online-store.js';
import { scratchName, stageArrowTable } from '../../lib/features/staging.js';
import type { ColumnSchema } from '../../lib/data/types.js';
import { startRedisServer } from '../../lib/runtime/redis-server.js';
import { taskQueues } from '../../lib/task-queues.js';
import { connectWorker } from '../../workers/temporal-connection.js';
import { createWorkers, workerConfig } from '../../workers/worker.js';
import { startStack, type Stack } from '../setup/harness.js';

let stack: Stack;
const tag = Date.now().toString(36);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Every source time is in the past of the test run, so online reads "now" see all of it.
const B = Math.floor(Date.now() / 60_000) * 60_000 - 6 * HOUR;

type SourceRow = [user: string, eventTime: number, createdAt: number, amount: number | null, segment: string];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function sourceQuery(rows: SourceRow[]): string {
  const values = rows.map(
    ([u, et, ct, amount, seg]) => `('${u}'::text, '${iso(et)}'::timestamptz, '${iso(ct)}'::timestamptz, ${amount === null ? 'null' : amount}::float8, '${seg}'::text)`,
  );
  return `select * from (values ${values.join(', ')}) as t(user_id, event_time, created_at, amount, segment) order by event_time, user_id`;
}

function labelQuery(rows: Array<[string, number, number]>): string {
  const values = rows.map(([u, ts, label]) => `('${u}'::text, '${iso(ts)}'::timestamptz, ${label}::float8)`);
  return `select * from (values ${values.join(', ')}) as t(user_id, ts, label)`;
}

// Planted: u1's value at B+1h is in the future of a label at B; u2's only row is 30 days old (TTL 7 days);
// u3's B-1h row was written (created) at B+5h, a backfill.
const planted: SourceRow[] = [
  ['u1', B - 48 * HOUR, B - 48 * HOUR, 10, 'a'],
  ['u1', B - 2 * HOUR, B - 2 * HOUR, 20, 'b'],
  ['u1', B + HOUR, B + HOUR, 1000, 'c'],
  ['u2', B - 30 * DAY, B - 30 * DAY, 5, 'a'],
  ['u3', B - 10 * HOUR, B - 10 * HOUR, 3, 'a'],
  ['u3', B - HOUR, B + 5 * HOUR, 7, 'z'],
];

// Deterministic extra entities for the parity sample, spread over the last 10 days.
function extraRows(): SourceRow[] {
  const rows: SourceRow[] = [];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let e = 4; e <= 20; e++) {
    const n = 1 + Math.floor(rand() * 6);
    for (let i = 0; i < n; i++) {
      const et = B + 2 * HOUR - Math.floor(rand() * 10 * DAY / 60_000) * 60_000;
      rows.push([`u${e}`, et, et, Math.round(rand() * 2000) / 10, ['a', 'b', 'c', 'd'][Math.floor(rand() * 4)]]);
    }
  }
  return rows;
}

function userTxnsView(name: string, dataset: string): FeatureView {
  return featureView({
    name,
    description: 'Spending per user',
    owner: 'risk-team',
    tags: { team: 'risk' },
    entity: entity({ name: 'user', joinKey: 'user_id' }),
    source: datasetSource({ dataset, eventTime: 'event_time', createdTime: 'created_at' }),
    features: [
      { kind: 'value', name: 'amount', column: 'amount' },
      { kind: 'scale', name: 'amount_z', column: 'amount', center: 10, scale: 5 },
      { kind: 'bucket', name: 'amount_bucket', column: 'amount', boundaries: [0, 10, 100] },
      { kind: 'encode', name: 'segment_code', column: 'segment', categories: ['a', 'b', 'c'] },
      { kind: 'aggregate', name: 'txns_24h', fn: 'count', windowSeconds: 86_400 },
      { kind: 'aggregate', name: 'amount_sum_3d', fn: 'sum', column: 'amount', windowSeconds: 3 * 86_400 },
      { kind: 'aggregate', name: 'amount_mean_3d', fn: 'mean', column: 'amount', windowSeconds: 3 * 86_400 },
      { kind: 'aggregate', name: 'amount_min_3d', fn: 'min', column: 'amount', windowSeconds: 3 * 86_400 },
      { kind: 'aggregate', name: 'amount_max_3d', fn: 'max', column: 'amount', windowSeconds: 3 * 86_400 },
    ],
    ttlSeconds: 7 * 86_400,
  });
}

const sourceName = `txns-${tag}`;
let view: FeatureView;

beforeAll(async () => {
  stack = await startStack();
  const deps = { db: stack.runtime.db, artifacts: stack.runtime.artifacts };
  await ingestDataset(deps, { name: sourceName, sourceUri: 'postgres:default', query: sourceQuery([...planted, ...extraRows()]) });
  view = userTxnsView(`user_txns_${tag}`, sourceName);
});
afterAll(async () => stack?.stop());

async function frame(labels: Array<[string, number, number]>, outputName: string, createdTimeGuard = false, of: FeatureView = view): Promise<Array<Record<string, unknown>>> {
  const deps = { db: stack.runtime.db, artifacts: stack.runtime.artifacts };
  const labelVersion = await ingestDataset(deps, { name: `${outputName}-labels`, sourceUri: 'postgres:default', query: labelQuery(labels) });
  const result = await buildTrainingFrame(deps, { labelsVersionId: labelVersion.id, timestampColumn: 'ts', views: [of], createdTimeGuard, outputName });
  const { table } = await loadDatasetTable(deps, result.dataset.id);
  expect(table.schema.fields.map((f) => f.name)).toEqual(['user_id', 'ts', 'label', ...of.features.map((f) => f.name)]);
  return table.toArray().map((r) => r.toJSON() as Record<string, unknown>);
}

describe('staging', () => {
  it('copies every value through COPY as it is: separators and backslashes in text, nulls, timestamps, booleans', async () => {
    const texts = ['plain', 'tab\there', 'line\nbreak', 'back\\slash \\N', 'cr\r', null, ''];
    const times = [B, B + 1, null, B - DAY, 0, B, B];
    const arrow = tableFromArrays({
      s: texts,
      x: Float64Array.from([1.5, -0, 1e300, Number.NaN, 2, 3, 4]),
      t: times,
      b: [true, false, null, true, false, true, false],
    });
    const client = await stack.runtime.db.connect();
    const table = scratchName('fs_test');
    try {
      const schema = [{ name: 's', type: 'utf8' }, { name: 'x', type: 'float64' }, { name: 't', type: 'timestamp' }, { name: 'b', type: 'bool' }] as ColumnSchema[];
      const staged = await stageArrowTable(client, table, arrow, schema);
      expect(staged.rows).toBe(texts.length);
      const { rows } = await client.query<{ row_no: string; c_0: string | null; c_1: number; c_2: Date | null; c_3: boolean | null }>(`select * from ${table} order by row_no`);
      expect(rows.map((r) => r.c_0)).toEqual(texts);
      expect(rows.map((r) => r.c_2?.getTime() ?? null)).toEqual(times);
      expect(rows.map((r) => r.c_3)).toEqual([true, false, null, true, false, true, false]);
      expect(rows.map((r) => r.c_1)).toEqual([1.5, -0, 1e300, Number.NaN, 2, 3, 4]);
      expect(rows.map((r) => Number(r.row_no))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    } finally {
      await client.query(`drop table if exists ${table}`);
      client.release();
    }
  });
});

describe('offline training frame', () => {
  it('takes each label row\'s features as of its timestamp: the planted future value is not used', async () => {
    // A leaky join (latest row per entity, ignoring the label time) would pick the planted 1000.
    const leaky = await stack.runtime.db.query<{ amount: number }>(
      `select amount from (${sourceQuery(planted)}) s where user_id = 'u1' order by event_time desc limit 1`,
    );
    expect(leaky.rows[0].amount).toBe(1000);

    const rows = await frame([['u1', B, 1], ['u1', B + 2 * HOUR, 0]], `frame-pit-${tag}`);
    expect(rows[0]).toMatchObject({
      user_id: 'u1', label: 1, amount: 20, amount_z: 2, amount_bucket: 2, segment_code: 1,
      txns_24h: 1, amount_sum_3d: 30, amount_mean_3d: 15, amount_min_3d: 10, amount_max_3d: 20,
    });
    expect(rows[1]).toMatchObject({ user_id: 'u1', amount: 1000, amount_bucket: 3, segment_code: 2, txns_24h: 2, amount_sum_3d: 1030, amount_max_3d: 1000 });
  });

  it('gives missing values when the latest row is older than the TTL at the label time, or there is none', async () => {
    const rows = await frame([['u2', B, 1], ['u1', B + HOUR + 7 * DAY + 1000, 0], ['u1', B + HOUR + 7 * DAY, 0], ['nobody', B, 1]], `frame-ttl-${tag}`);
    const nulls = Object.fromEntries(view.features.map((f) => [f.name, null]));
    expect(rows[0]).toMatchObject({ user_id: 'u2', ...nulls });
    expect(rows[1]).toMatchObject({ user_id: 'u1', ...nulls });
    // Exactly at the TTL boundary the value is still present.
    expect(rows[2]).toMatchObject({ user_id: 'u1', amount: 1000 });
    expect(rows[3]).toMatchObject({ user_id: 'nobody', ...nulls, txns_24h: null });
  });

  it('with the created-time guard, a backfilled row written after the label time is not used', async () => {
    const open = await frame([['u3', B, 1]], `frame-noguard-${tag}`);
    expect(open[0]).toMatchObject({ amount: 7, segment_code: null, amount_sum_3d: 10 });
    const guarded = await frame([['u3', B, 1]], `frame-guard-${tag}`, true);
    expect(guarded[0]).toMatchObject({ amount: 3, segment_code: 0, amount_sum_3d: 3, txns_24h: 1 });
  });
});

describe('feature views API', () => {
  it('registers a declaration (201, then 200 for the same content) and refuses a bad one with the path', async () => {
    const res = await stack.api('POST', '/v1/feature-views', view);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: view.name, version: 1, declaration: { owner: 'risk-team' } });
    const again = await stack.api('POST', '/v1/feature-views', view);
    expect(again.status).toBe(200);
    const bad = await stack.api('POST', '/v1/feature-views', { ...view, name: `bad_${tag}`, features: [{ kind: 'aggregate', name: 's', fn: 'sum', windowSeconds: 60 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/features\/0 \(sum\) needs a column/);
    const viewer = await stack.createKey(['viewer']);
    const denied = await stack.api('POST', '/v1/feature-views', view, { key: viewer });
    expect(denied.status).toBe(403);
    expect((await stack.api('POST', `/v1/feature-views/nope_${tag}/materialize?wait=true`)).status).toBe(404);
    expect((await stack.api('GET', `/v1/features/nope_${tag}/u1`)).status).toBe(404);
  });

  it('builds a training frame from registered views through the workflow and stores it as a dataset version', async () => {
    const deps = { db: stack.runtime.db, artifacts: stack.runtime.artifacts };
    const labels = await ingestDataset(deps, { name: `api-labels-${tag}`, sourceUri: 'postgres:default', query: labelQuery([['u1', B, 1], ['u2', B, 0], ['nobody', B, 1]]) });
    const body = { labelsVersionId: labels.id, timestampColumn: 'ts', views: [view.name], outputName: `api-frame-${tag}` };
    const res = await stack.api('POST', '/v1/feature-views/training-frames', body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ datasetName: `api-frame-${tag}`, rowCount: 3, created: true, featureColumns: view.features.map((f) => f.name) });
    expect(res.body.missing).toMatchObject({ amount: 2, txns_24h: 2, segment_code: 2 });
    const { table } = await loadDatasetTable(deps, res.body.datasetVersionId);
    expect(table.toArray()[0].toJSON()).toMatchObject({ user_id: 'u1', amount: 20 });
    const again = await stack.api('POST', '/v1/feature-views/training-frames', body);
    expect(again.status).toBe(200);
    expect(again.body.datasetVersionId).toBe(res.body.datasetVersionId);
    const unknown = await stack.api('POST', '/v1/feature-views/training-frames', { ...body, views: [`nope_${tag}`] });
    expect(unknown.status).toBe(404);
  });

  it('keys entities by a numeric column: offline and online agree on the key 42', async () => {
    const deps = { db: stack.runtime.db, artifacts: stack.runtime.artifacts };
    const name = `accounts-${tag}`;
    await ingestDataset(deps, {
      name, sourceUri: 'postgres:default',
      query: `select * from (values (42::float8, '${iso(B - HOUR)}'::timestamptz, 3::float8), (42, '${iso(B)}', 4), (7, '${iso(B)}', 9)) as t(account, at, balance)`,
    });
    const numeric = featureView({
      name: `accounts_${tag}`, description: 'Balances', owner: 'risk', tags: {},
      entity: entity({ name: 'account', joinKey: 'account' }),
      source: datasetSource({ dataset: name, eventTime: 'at' }),
      features: [{ kind: 'value', name: 'balance', column: 'balance' }, { kind: 'aggregate', name: 'balance_sum_1d', fn: 'sum', column: 'balance', windowSeconds: 86_400 }],
      ttlSeconds: 30 * 86_400,
    });
    expect((await stack.api('POST', '/v1/feature-views', numeric)).status).toBe(201);
    expect((await stack.api('POST', `/v1/feature-views/${numeric.name}/materialize?wait=true`)).body.entitiesUpserted).toBe(2);
    const online = await stack.api('GET', `/v1/features/${numeric.name}/42`);
    expect(online.body).toMatchObject({ status: 'present', values: { balance: 4, balance_sum_1d: 7 } });
    const labels = await ingestDataset(deps, { name: `${name}-labels`, sourceUri: 'postgres:default', query: `select 42::float8 as account, '${iso(B - 1)}'::timestamptz as ts` });
    const frame = await buildTrainingFrame(deps, { labelsVersionId: labels.id, timestampColumn: 'ts', views: [numeric], outputName: `${name}-frame` });
    const { table } = await loadDatasetTable(deps, frame.dataset.id);
    expect(table.toArray()[0].toJSON()).toMatchObject({ account: 42, balance: 3, balance_sum_1d: 3 });
  });
});

interface Backend {
  store: OnlineStore;
  /** The backend's own redis-server, when it has one. */
  redisUrl?: string;
  api(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/** Serving and workers on the harness's stack: Postgres as the harness built it, or a second app and worker set writing and reading Redis. */
async function openBackend(name: 'postgres' | 'redis'): Promise<Backend> {
  if (name === 'postgres') return { store: stack.runtime.onlineStore, api: stack.api, stop: async () => {} };
  const redis = await startRedisServer();
  const { db, artifacts, client } = stack.runtime;
  const store = await RedisOnlineStore.connect(redis.url, db);
  const config = { ...stack.config, taskQueues: taskQueues(`${stack.config.taskQueues.orchestration}-redis`) };
  const connection = await connectWorker(stack.runtime.temporalAddress);
  const workers = await createWorkers({ ...workerConfig(stack.runtime, connection), taskQueues: config.taskQueues, deps: { db, artifacts, onlineStore: store } });
  const running = workers.run();
  const app: FastifyInstance = await buildApp({ config, db, artifacts, client, onlineStore: store }, { logger: false });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    store,
    redisUrl: redis.url,
    async api(method, route, body) {
      const headers: Record<string, string> = { authorization: `Bearer ${stack.adminKey}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(url + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: await res.json() };
    },
    async stop() {
      await app.close();
      workers.shutdown();
      await running;
      await connection.close();
      await store.close();
      await redis.stop();
    },
  };
}

describe.each(['postgres', 'redis'] as const)('the online store on %s', (backendName) => {
  let backend: Backend;
  const source = `txns-${tag}-${backendName}`;
  const online = userTxnsView(`user_txns_${tag}_${backendName}`, source);
  const deps = () => ({ db: stack.runtime.db, artifacts: stack.runtime.artifacts });
  const everyone = ['u1', 'u2', 'u3', ...Array.from({ length: 17 }, (_, i) => `u${i + 4}`)];
  // One read time for the whole scenario, so answers compare whole (staleness included).
  const readAt = Date.now();
  const readAll = async (ids = everyone): Promise<Map<string, OnlineFeatures>> =>
    new Map((await backend.store.read(online.name, ids, readAt)).map((f) => [f.entityId, f]));
  const materialize = async () => (await backend.api('POST', `/v1/feature-views/${online.name}/materialize?wait=true`)).body;

  beforeAll(async () => {
    backend = await openBackend(backendName);
    await ingestDataset(deps(), { name: source, sourceUri: 'postgres:default', query: sourceQuery([...planted, ...extraRows()]) });
    expect((await backend.api('POST', '/v1/feature-views', online)).status).toBe(201);
  });
  afterAll(async () => backend?.stop());

  it('materializes through the workflow, incrementally, and reads enforce TTL and report staleness', async () => {
    const first = await materialize();
    expect(first).toMatchObject({ full: true, previousWatermark: null, entitiesUpserted: 20, entitiesRemoved: 0 });

    const u1 = await backend.api('GET', `/v1/features/${online.name}/u1`);
    expect(u1.status).toBe(200);
    expect(u1.body).toMatchObject({ status: 'present', eventTime: iso(B + HOUR), values: { amount: 1000, txns_24h: 2, amount_sum_3d: 1030 } });
    expect(u1.body.stalenessSeconds).toBeGreaterThan(4 * 3600);
    // u2's row is 30 days old with a 7-day TTL: never present. Postgres keeps the row and says so;
    // Redis reclaims a key one TTL after it expired, so there it is gone.
    const u2 = await backend.api('GET', `/v1/features/${online.name}/u2`);
    expect(u2.body).toMatchObject({ status: backendName === 'postgres' ? 'expired' : 'missing', values: { amount: null, txns_24h: null } });
    if (backendName === 'postgres') expect(u2.body.stalenessSeconds).toBeGreaterThan(30 * 86_400 - 60);
    const none = await backend.api('GET', `/v1/features/${online.name}/nobody`);
    expect(none.body).toMatchObject({ status: 'missing', values: { amount: null }, stalenessSeconds: null, ttlSeconds: 7 * 86_400 });

    const before = await readAll();
    // Append: new rows for u1 and u4 only.
    await ingestDataset(deps(), {
      name: source, sourceUri: 'postgres:default', mode: 'append',
      query: sourceQuery([['u1', B + 3 * HOUR, B + 3 * HOUR, 50, 'a'], ['u4', B + 4 * HOUR, B + 4 * HOUR, 60, 'b']]),
    });
    // A run that fails after its store write (here: when it stores the watermark) leaves the digests,
    // the watermark and the run record as they were. Postgres rolls its rows back with them; Redis
    // keeps what it wrote, and the next run writes the same entities again.
    const db = stack.runtime.db;
    const fn = `fail_watermark_${tag}_${backendName}`;
    await db.query(`create function ${fn}() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`);
    await db.query(`create trigger ${fn} before update of watermark on feature_views for each row when (new.name = '${online.name}') execute function ${fn}()`);
    try {
      await expect(materializeFeatureView({ ...deps(), onlineStore: backend.store }, { view: online.name, runId: `failing-${tag}-${backendName}` })).rejects.toThrow(/injected failure/);
    } finally {
      await db.query(`drop trigger ${fn} on feature_views`);
      await db.query(`drop function ${fn}()`);
    }
    if (backendName === 'postgres') expect(await readAll()).toEqual(before);
    expect((await backend.api('GET', `/v1/feature-views/${online.name}`)).body.watermark).toBe(first.watermark);
    expect((await db.query('select 1 from feature_materializations where id = $1', [`failing-${tag}-${backendName}`])).rowCount).toBe(0);

    const second = await materialize();
    expect(second).toMatchObject({ full: false, previousWatermark: first.watermark, watermark: iso(B + 4 * HOUR), entitiesUpserted: 2, entitiesRemoved: 0 });
    const after = await readAll();
    const changed = everyone.filter((e) => after.get(e)!.materializedAt !== before.get(e)!.materializedAt);
    expect(changed.sort()).toEqual(['u1', 'u4']);
    expect(after.get('u1')!.values).toMatchObject({ amount: 50, txns_24h: 3, amount_sum_3d: 1080 });

    const third = await materialize();
    expect(third).toMatchObject({ full: false, entitiesUpserted: 0 });
    const started = await backend.api('POST', `/v1/feature-views/${online.name}/materialize`);
    expect(started.status).toBe(202);
    expect(started.body.workflowId).toMatch(/^materialize-/);
    const { client } = stack.runtime;
    await client.workflow.getHandle(started.body.workflowId).result();
  });

  it('late backfills: a late row at or before the watermark updates an entity when it is its newest, and not when it is older', async () => {
    const watermark = (await backend.api('GET', `/v1/feature-views/${online.name}`)).body.watermark;
    const newest = (e: string) => Math.max(...extraRows().filter((r) => r[0] === e).map((r) => r[1]));
    const u5Late = newest('u5') + 60_000;
    // Older than u6's newest row, and outside its 3-day windows, so no value of u6 may move.
    const u6Late = newest('u6') - 4 * DAY;
    expect(u5Late).toBeLessThan(Date.parse(watermark));
    const before = await readAll(['u5', 'u6']);
    await ingestDataset(deps(), {
      name: source, sourceUri: 'postgres:default', mode: 'append',
      query: sourceQuery([['u5', u5Late, B + 5 * HOUR, 777, 'c'], ['u6', u6Late, B + 5 * HOUR, 888, 'c']]),
    });
    const run = await materialize();
    expect(run).toMatchObject({ full: false, watermark, entitiesUpserted: 2 });
    const after = await readAll(['u5', 'u6']);
    expect(after.get('u5')).toMatchObject({ status: 'present', eventTime: iso(u5Late), values: { amount: 777, segment_code: 2 } });
    expect(after.get('u5')!.values.txns_24h).toBe((before.get('u5')!.values.txns_24h as number) + 1);
    expect(after.get('u6')!.eventTime).toBe(before.get('u6')!.eventTime);
    expect(after.get('u6')!.values).toEqual(before.get('u6')!.values);
  });

  it('parity: for sampled entities, online values at T equal the offline point-in-time values at T', async () => {
    const T = Date.now();
    const entities = [...everyone, 'nobody'];
    const offline = await frame(entities.map((e) => [e, T, 0]), `frame-parity-${tag}-${backendName}`, false, online);
    // One read for all 21 entities, answered in request order.
    const answers = await backend.store.read(online.name, entities, T);
    expect(answers.map((a) => a.entityId)).toEqual(entities);
    let present = 0;
    for (const [i, e] of entities.entries()) {
      const expected = Object.fromEntries(online.features.map((f) => [f.name, offline[i][f.name]]));
      expect(answers[i].values, e).toEqual(expected);
      if (answers[i].status === 'present') present++;
    }
    // The sample holds present and not-present entities, so the comparison is not vacuous.
    expect(present).toBeGreaterThan(10);
    expect(entities.length - present).toBeGreaterThanOrEqual(2);
  });

  it('a new source version that drops an entity removes it online; unchanged entities are not rewritten', async () => {
    const current = await loadDatasetTable(deps(), (await backend.api('GET', `/v1/feature-views/${online.name}`)).body.watermarkDatasetVersionId);
    const rows = current.table.toArray().map((r) => r.toJSON() as { user_id: string; event_time: number; created_at: number; amount: number | null; segment: string });
    const kept: SourceRow[] = rows.filter((r) => r.user_id !== 'u20').map((r) => [r.user_id, Number(r.event_time), Number(r.created_at), r.amount, r.segment]);
    // A replace, not an append: no lineage links it to the last run's version.
    await ingestDataset(deps(), { name: source, sourceUri: 'postgres:default', query: sourceQuery(kept) });
    expect(await materialize()).toMatchObject({ full: false, entitiesUpserted: 0, entitiesRemoved: 1 });
    expect((await readAll(['u20'])).get('u20')).toMatchObject({ status: 'missing', eventTime: null });
  });

  it('a changed declaration drops the online values at once; the next run rewrites every entity under it', async () => {
    const changed = { ...online, description: 'Spending per user, v2', ttlSeconds: 8 * 86_400 };
    const res = await backend.api('POST', '/v1/feature-views', changed);
    expect(res.body).toMatchObject({ version: 2, watermark: null });
    expect((await readAll(['u1'])).get('u1')).toMatchObject({ status: 'missing', ttlSeconds: 8 * 86_400 });
    expect(await materialize()).toMatchObject({ full: true, entitiesUpserted: 19 });
    expect((await readAll(['u1'])).get('u1')).toMatchObject({ status: 'present', ttlSeconds: 8 * 86_400, values: { amount: 50 } });
  });

  if (backendName === 'redis') {
    it('a Redis that lost its data (restarted empty) is rewritten whole by the next run', async () => {
      const values = await readAll();
      const admin = new Redis(backend.redisUrl!);
      await admin.flushdb();
      await admin.quit();
      expect((await readAll(['u1'])).get('u1')!.status).toBe('missing');
      expect(await materialize()).toMatchObject({ full: true, entitiesUpserted: 19 });
      const restored = await readAll();
      for (const e of everyone) expect(restored.get(e)!.values, e).toEqual(values.get(e)!.values);
    });
  }
});
