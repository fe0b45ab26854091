// Feature store on real Postgres and Temporal: point-in-time training frames (a planted future value is
// not used, TTL gives missing, the created-time guard stops a backfill leaking), the registry and
// materialize workflow through the API, incremental runs, online TTL/staleness, and online/offline parity.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestDataset, loadDatasetTable } from '../../lib/data/datasets.js';
import { featureView, entity, datasetSource, type FeatureView } from '../../lib/features/declaration.js';
import { buildTrainingFrame } from '../../lib/features/offline.js';
import { materializeFeatureView } from '../../lib/features/online.js';
import { PostgresOnlineStore } from '../../lib/features/online-store.js';
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

const sourceName = `txns-${tag}`;
let view: FeatureView;

beforeAll(async () => {
  stack = await startStack();
  const deps = { db: stack.runtime.db, artifacts: stack.runtime.artifacts };
  await ingestDataset(deps, { name: sourceName, sourceUri: 'postgres:default', query: sourceQuery([...planted, ...extraRows()]) });
  view = featureView({
    name: `user_txns_${tag}`,
    description: 'Spending per user',
    owner: 'risk-team',
    tags: { team: 'risk' },
    entity: entity({ name: 'user', joinKey: 'user_id' }),
    source: datasetSource({ dataset: sourceName, eventTime: 'event_time', createdTime: 'created_at' }),
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
});
afterAll(async () => stack?.stop());

async function frame(labels: Array<[string, number, number]>, outputName: string, createdTimeGuard = false): Promise<Array<Record<string, unknown>>> {
  const deps = { db: stack.runtime.db, artifacts: stack.runtime.artifacts };
  const labelVersion = await ingestDataset(deps, { name: `${outputName}-labels`, sourceUri: 'postgres:default', query: labelQuery(labels) });
  const result = await buildTrainingFrame(deps, { labelsVersionId: labelVersion.id, timestampColumn: 'ts', views: [view], createdTimeGuard, outputName });
  const { table } = await loadDatasetTable(deps, result.dataset.id);
  expect(table.schema.fields.map((f) => f.name)).toEqual(['user_id', 'ts', 'label', ...view.features.map((f) => f.name)]);
  return table.toArray().map((r) => r.toJSON() as Record<string, unknown>);
}

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

describe('feature views API and the online store', () => {
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
  });

  it('materializes through the workflow, incrementally, and reads enforce TTL and report staleness', async () => {
    const first = await stack.api('POST', `/v1/feature-views/${view.name}/materialize?wait=true`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ full: true, previousWatermark: null, entitiesUpserted: 20 });

    const u1 = await stack.api('GET', `/v1/features/${view.name}/u1`);
    expect(u1.status).toBe(200);
    expect(u1.body).toMatchObject({ status: 'present', eventTime: iso(B + HOUR), values: { amount: 1000, txns_24h: 2, amount_sum_3d: 1030 } });
    expect(u1.body.stalenessSeconds).toBeGreaterThan(4 * 3600);
    const u2 = await stack.api('GET', `/v1/features/${view.name}/u2`);
    expect(u2.body).toMatchObject({ status: 'expired', values: { amount: null, txns_24h: null } });
    expect(u2.body.stalenessSeconds).toBeGreaterThan(30 * 86_400 - 60);
    const none = await stack.api('GET', `/v1/features/${view.name}/nobody`);
    expect(none.body).toMatchObject({ status: 'missing', values: { amount: null }, stalenessSeconds: null });

    const before = await stack.runtime.db.query<{ entity_id: string; materialized_at: Date }>(
      'select entity_id, materialized_at from feature_online where view_name = $1 order by entity_id', [view.name],
    );
    // Append: new rows for u1 and u4 only.
    const deps = { db: stack.runtime.db, artifacts: stack.runtime.artifacts };
    await ingestDataset(deps, {
      name: sourceName, sourceUri: 'postgres:default', mode: 'append',
      query: sourceQuery([['u1', B + 3 * HOUR, B + 3 * HOUR, 50, 'a'], ['u4', B + 4 * HOUR, B + 4 * HOUR, 60, 'b']]),
    });
    // A run that fails after its upsert (here: when it stores the watermark) leaves every online value
    // and the watermark as they were: the upsert, watermark and run record are one transaction.
    const db = stack.runtime.db;
    const fn = `fail_watermark_${tag}`;
    await db.query(`create function ${fn}() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`);
    await db.query(`create trigger ${fn} before update of watermark on feature_views for each row when (new.name = '${view.name}') execute function ${fn}()`);
    try {
      await expect(materializeFeatureView(deps, { view: view.name, runId: `failing-${tag}` })).rejects.toThrow(/injected failure/);
    } finally {
      await db.query(`drop trigger ${fn} on feature_views`);
      await db.query(`drop function ${fn}()`);
    }
    const unchanged = await db.query<{ entity_id: string; materialized_at: Date }>(
      'select entity_id, materialized_at from feature_online where view_name = $1 order by entity_id', [view.name],
    );
    expect(unchanged.rows).toEqual(before.rows);
    expect((await stack.api('GET', `/v1/features/${view.name}/u1`)).body.values).toMatchObject({ amount: 1000 });
    expect((await stack.api('GET', `/v1/feature-views/${view.name}`)).body.watermark).toBe(first.body.watermark);
    expect((await db.query('select 1 from feature_materializations where id = $1', [`failing-${tag}`])).rowCount).toBe(0);

    const second = await stack.api('POST', `/v1/feature-views/${view.name}/materialize?wait=true`);
    expect(second.body).toMatchObject({ full: false, previousWatermark: first.body.watermark, watermark: iso(B + 4 * HOUR), entitiesUpserted: 2 });
    const after = await stack.runtime.db.query<{ entity_id: string; materialized_at: Date }>(
      'select entity_id, materialized_at from feature_online where view_name = $1 order by entity_id', [view.name],
    );
    const changed = after.rows.filter((r, i) => r.materialized_at.getTime() !== before.rows[i].materialized_at.getTime()).map((r) => r.entity_id);
    expect(changed.sort()).toEqual(['u1', 'u4']);
    expect((await stack.api('GET', `/v1/features/${view.name}/u1`)).body.values).toMatchObject({ amount: 50, txns_24h: 3, amount_sum_3d: 1080 });

    const third = await stack.api('POST', `/v1/feature-views/${view.name}/materialize?wait=true`);
    expect(third.body).toMatchObject({ full: false, entitiesUpserted: 0 });
    const started = await stack.api('POST', `/v1/feature-views/${view.name}/materialize`);
    expect(started.status).toBe(202);
    expect(started.body.workflowId).toMatch(/^materialize-/);
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

  it('parity: for sampled entities, online values at T equal the offline point-in-time values at T', async () => {
    const T = Date.now();
    const entities = ['u1', 'u2', 'u3', ...Array.from({ length: 17 }, (_, i) => `u${i + 4}`), 'nobody'];
    const offline = await frame(entities.map((e) => [e, T, 0]), `frame-parity-${tag}`);
    let present = 0;
    let expired = 0;
    for (const [i, e] of entities.entries()) {
      const [online] = await new PostgresOnlineStore(stack.runtime.db).read(view.name, [e], T);
      const expected = Object.fromEntries(view.features.map((f) => [f.name, offline[i][f.name]]));
      expect(online.values, e).toEqual(expected);
      if (online.status === 'present') present++;
      if (online.status === 'expired') expired++;
    }
    // The sample covers both present and expired entities, so the comparison is not vacuous.
    expect(present).toBeGreaterThan(10);
    expect(expired).toBeGreaterThanOrEqual(1);
  });
});
