// The prediction log against the suite's Postgres: batched writes by COPY (real Postgres) or INSERT
// (embedded), a bounded queue that refuses instead of growing, and a close that flushes.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PredictionLog, type PredictionRecord, type WriteMethod } from '../../lib/serving/prediction-log.js';
import { connectDb, supportsCopyFromStdin, type Db } from '../../lib/storage/db.js';

let db: Db;
let methods: WriteMethod[];

beforeAll(async () => {
  db = await connectDb(inject('databaseUrl'));
  methods = (await supportsCopyFromStdin(db)) ? ['copy', 'insert'] : ['insert'];
});
afterAll(async () => db?.end());

function records(model: string, n: number): PredictionRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    at: new Date(),
    modelName: model,
    version: 1,
    arm: 'stable',
    inputs: { x: i, note: 'comma, "quote"' },
    outputs: { label: i % 2 ? 'yes' : 'no', probabilities: { no: 0.25, yes: 0.75 } },
    latencyMs: 0.5,
  }));
}

describe('PredictionLog', () => {
  it('writes every queued prediction in batches, with JSON intact', async () => {
    for (const method of methods) {
      const model = `log-${method}-${randomUUID().slice(0, 8)}`;
      const log = new PredictionLog(db, { method, batchSize: 500, flushIntervalMs: 50 });
      expect(log.append(records(model, 1234))).toBe(true);
      await log.close();
      const { rows } = await db.query('select count(*)::int as n, min(inputs->>$2) as note from predictions where model_name = $1', [model, 'note']);
      expect(rows[0]).toEqual({ n: 1234, note: 'comma, "quote"' });
      expect(log.written).toBe(1234);
    }
  });

  it('stores every column as given, by either method (ids, time to the microsecond, request id or none, status, non-ASCII JSON)', async () => {
    for (const method of methods) {
      const model = `cols-${method}-${randomUUID().slice(0, 8)}`;
      const at = new Date('2026-11-23T10:11:12.345Z');
      const requestId = randomUUID();
      const given: PredictionRecord[] = [
        { id: randomUUID(), at, modelName: model, version: 7, arm: 'canary', inputs: { city: 'Zürich ☃ 𝔘', x: null, q: 'a"b\\c\n' }, outputs: { label: 3, probabilities: { '3': 1 } }, latencyMs: 1.25, requestId, status: 'fallback' },
        { id: randomUUID(), at, modelName: model, version: 7, arm: 'shadow', inputs: {}, outputs: { error: 'boom' }, latencyMs: 0 },
      ];
      const log = new PredictionLog(db, { method, flushIntervalMs: 60_000 });
      expect(log.append(given)).toBe(true);
      await log.close();
      const { rows } = await db.query(
        'select id, at, model_name, version, arm, inputs, outputs, latency_ms, request_id, status from predictions where model_name = $1 order by arm',
        [model],
      );
      expect(rows).toEqual([
        { id: given[0].id, at, model_name: model, version: 7, arm: 'canary', inputs: given[0].inputs, outputs: given[0].outputs, latency_ms: 1.25, request_id: requestId, status: 'fallback' },
        { id: given[1].id, at, model_name: model, version: 7, arm: 'shadow', inputs: {}, outputs: { error: 'boom' }, latency_ms: 0, request_id: null, status: 'ok' },
      ]);
    }
  });

  it('keeps a batch whose write failed queued, and writes it on a later flush', async () => {
    for (const method of methods) {
      const model = `retry-${method}-${randomUUID().slice(0, 8)}`;
      let down = true;
      const flaky = {
        connect: () => (down ? Promise.reject(new Error('connection refused')) : db.connect()),
        query: (...args: Parameters<Db['query']>) => (down ? Promise.reject(new Error('connection refused')) : db.query(...args)),
      } as unknown as Db;
      const errors: unknown[] = [];
      const log = new PredictionLog(flaky, { method, batchSize: 100, flushIntervalMs: 60_000, onError: (err) => errors.push(err) });
      expect(log.append(records(model, 250))).toBe(true);
      await log.flush();
      expect(errors.length).toBeGreaterThan(0);
      expect(log.depth).toBe(250);
      down = false;
      expect(log.append(records(model, 10))).toBe(true);
      await log.close();
      expect(log.depth).toBe(0);
      const { rows } = await db.query('select count(*)::int as n, count(distinct id)::int as ids from predictions where model_name = $1', [model]);
      expect(rows[0]).toEqual({ n: 260, ids: 260 });
    }
  });

  it('sends a large batch in slices, and keeps a batch Postgres refuses queued without losing the process', async () => {
    if (!methods.includes('copy')) return;
    const model = `slices-${randomUUID().slice(0, 8)}`;
    const big = records(model, 400).map((r) => ({ ...r, inputs: { ...(r.inputs as object), pad: 'x'.repeat(1000) } }));
    const log = new PredictionLog(db, { method: 'copy', batchSize: 1000, flushIntervalMs: 60_000 });
    expect(log.append(big)).toBe(true);
    await log.flush();
    expect(log.depth).toBe(0);
    const { rows } = await db.query('select count(*)::int as n from predictions where model_name = $1', [model]);
    expect(rows[0].n).toBe(400);
    // The same ids again: the COPY fails on the primary key while the batch is still being sent.
    const errors: unknown[] = [];
    const again = new PredictionLog(db, { method: 'copy', batchSize: 1000, flushIntervalMs: 60_000, onError: (err) => errors.push(err) });
    expect(again.append(big)).toBe(true);
    await again.flush();
    expect(String(errors[0])).toContain('duplicate key');
    expect(again.depth).toBe(400);
    // The pool still works.
    expect((await db.query('select 1 as one')).rows[0].one).toBe(1);
  });

  it('refuses rows beyond its bound instead of dropping or growing', async () => {
    const log = new PredictionLog(db, { method: 'insert', maxQueue: 10, batchSize: 1000, flushIntervalMs: 60_000 });
    expect(log.append(records('bound', 8))).toBe(true);
    expect(log.hasRoom(3)).toBe(false);
    expect(log.append(records('bound', 3))).toBe(false);
    expect(log.depth).toBe(8);
    await log.close();
    expect(log.depth).toBe(0);
    expect(log.append(records('bound', 1))).toBe(false);
  });
});
