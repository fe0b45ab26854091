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
