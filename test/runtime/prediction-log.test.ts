// The prediction log against the suite's Postgres: batched writes by COPY (real Postgres) or INSERT
// (embedded), a bounded queue that refuses instead of growing, and a close that flushes.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startEmbeddedPostgres } from '../../lib/runtime/embedded-postgres.js';
import { freePort } from '../../lib/runtime/ports.js';
import { PredictionLog, type PredictionRecord, type WriteMethod } from '../../lib/serving/prediction-log.js';
import { connectDb, supportsCopyFromStdin, type Db } from '../../lib/storage/db.js';
import { migrate } from '../../lib/storage/migrate.js';

let db: Db;
let methods: WriteMethod[];

beforeAll(async () => {
  db = await connectDb(inject('databaseUrl'));
  methods = (await supportsCopyFromStdin(db)) ? ['copy', 'insert'] : ['insert'];
});
afterAll(async () => db?.end());

/** A TCP proxy to the suite's Postgres that can refuse (and cut) connections. */
async function postgresProxy(databaseUrl: string): Promise<{ url: string; setDown(down: boolean): void; close(): Promise<void> }> {
  const target = new URL(databaseUrl);
  let down = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (down) return client.destroy();
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    setDown(value) {
      down = value;
      if (value) for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A log whose connections go through a refusable proxy (as a Postgres restart would refuse them), closed after `use`. */
async function withProxiedLog(options: ConstructorParameters<typeof PredictionLog>[1], use: (log: PredictionLog, proxy: { setDown(down: boolean): void }) => Promise<void>): Promise<void> {
  const proxy = await postgresProxy(inject('databaseUrl'));
  const viaProxy = await connectDb(proxy.url);
  const log = new PredictionLog(viaProxy, options);
  try {
    await use(log, proxy);
  } finally {
    await log.close();
    await viaProxy.end();
    await proxy.close();
  }
}

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
      const errors: unknown[] = [];
      await withProxiedLog({ method, batchSize: 100, flushIntervalMs: 60_000, onError: (err) => errors.push(err) }, async (log, proxy) => {
        proxy.setDown(true);
        expect(log.append(records(model, 250))).toBe(true);
        await log.flush();
        expect(errors.length).toBeGreaterThan(0);
        expect(log.depth).toBe(250);
        proxy.setDown(false);
        expect(log.append(records(model, 10))).toBe(true);
        await log.close();
        expect(log.depth).toBe(0);
        const { rows } = await db.query('select count(*)::int as n, count(distinct id)::int as ids from predictions where model_name = $1', [model]);
        expect(rows[0]).toEqual({ n: 260, ids: 260 });
      });
    }
  });

  it('reports the rows a writer thread held as lost when it dies, and starts a new one for the next rows', async () => {
    if (!methods.includes('copy')) return;
    const model = `thread-exit-${randomUUID().slice(0, 8)}`;
    const errors: Error[] = [];
    // Refused connections keep the rows in the thread, as a crash mid-outage would find them.
    await withProxiedLog({ method: 'copy', flushIntervalMs: 60_000, onError: (err) => errors.push(err as Error) }, async (log, proxy) => {
      proxy.setDown(true);
      expect(log.append(records(model, 40))).toBe(true);
      await log.flush();
      expect(log.depth).toBe(40);
      // No public way to crash the thread: terminate it as an out-of-memory kill or a native fault would end it.
      const sink = (log as unknown as { sink: { worker?: import('node:worker_threads').Worker } }).sink;
      const worker = sink.worker!;
      await worker.terminate();
      await new Promise((r) => setImmediate(r));
      expect(log.depth).toBe(0);
      expect(errors.map((e) => e.message)).toContain('The prediction log writer thread stopped holding 40 rows; they are lost.');
      proxy.setDown(false);
      expect(log.append(records(model, 7))).toBe(true);
      await log.flush();
      expect(sink.worker).toBeDefined();
      expect(sink.worker).not.toBe(worker);
      expect(log.depth).toBe(0);
      const { rows } = await db.query('select count(*)::int as n from predictions where model_name = $1', [model]);
      expect(rows[0].n).toBe(7);
    });
  });

  it('retries a batch Postgres refused by merging, so rows an earlier attempt committed are not written twice', async () => {
    if (!methods.includes('copy')) return;
    const model = `merge-${randomUUID().slice(0, 8)}`;
    const big = records(model, 400).map((r) => ({ ...r, inputs: { ...(r.inputs as object), pad: 'x'.repeat(1000) } }));
    const log = new PredictionLog(db, { method: 'copy', batchSize: 1000, flushIntervalMs: 60_000 });
    expect(log.append(big.slice(0, 150))).toBe(true);
    await log.close();
    // The same ids again, as when a COPY committed but its client never heard: the first attempt fails on the
    // primary key, and the retry writes only the 250 rows that are not there yet.
    const errors: unknown[] = [];
    const again = new PredictionLog(db, { method: 'copy', batchSize: 1000, flushIntervalMs: 60_000, onError: (err) => errors.push(err) });
    expect(again.append(big)).toBe(true);
    await again.flush();
    expect(String(errors[0])).toContain('duplicate key');
    expect(again.depth).toBe(400);
    await again.flush();
    expect(again.depth).toBe(0);
    await again.close();
    const { rows } = await db.query('select count(*)::int as n, count(distinct id)::int as ids, min(length(inputs->>$2))::int as pad from predictions where model_name = $1', [model, 'pad']);
    expect(rows[0]).toEqual({ n: 400, ids: 400, pad: 1000 });
    // The pool still works.
    expect((await db.query('select 1 as one')).rows[0].one).toBe(1);
  });

  it('reports a row the writer thread cannot encode and writes the others', async () => {
    if (!methods.includes('copy')) return;
    const model = `bad-${randomUUID().slice(0, 8)}`;
    const errors: unknown[] = [];
    const log = new PredictionLog(db, { method: 'copy', flushIntervalMs: 60_000, onError: (err) => errors.push(err) });
    const rows = records(model, 3);
    rows[1] = { ...rows[1], id: 'not-a-uuid' };
    expect(log.append(rows)).toBe(true);
    await log.close();
    expect(log.depth).toBe(0);
    expect(log.written).toBe(2);
    const { rows: stored } = await db.query('select count(*)::int as n from predictions where model_name = $1', [model]);
    expect(stored[0].n).toBe(2);
    expect(String(errors[0])).toContain('Not a UUID');
  });

  it('drops only the rows Postgres refuses (U+0000, an unpaired surrogate), writes the rest of their batch and every batch after', async () => {
    for (const method of methods) await refusedRows(db, method);
  });

  it('does the same by INSERT on the embedded Postgres (PGlite)', async () => {
    const embedded = await startEmbeddedPostgres({ port: await freePort() });
    const pglite = await connectDb(embedded.url, 2);
    try {
      await migrate(pglite);
      await refusedRows(pglite, 'insert');
    } finally {
      await pglite.end();
      await embedded.stop();
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

/**
 * One batch of 10 with a \u0000 in one row's inputs and an unpaired surrogate in another's, a batch of 10 with a
 * refused value in its last row's outputs, then a good batch: only the three refused rows are left out, each
 * reported, and the log goes on.
 */
async function refusedRows(target: Db, method: WriteMethod): Promise<void> {
  const model = `refused-${method}-${randomUUID().slice(0, 8)}`;
  const errors: unknown[] = [];
  const log = new PredictionLog(target, { method, batchSize: 10, flushIntervalMs: 60_000, onError: (err) => errors.push(err) });
  try {
    const given = records(model, 25);
    given[3] = { ...given[3], inputs: { city: 'a\u0000b' } };
    given[4] = { ...given[4], inputs: { city: 'north' } };
    given[7] = { ...given[7], inputs: { city: '\ud800' } };
    given[19] = { ...given[19], outputs: { error: 'bad \udc00 label' } };
    const refused = new Set([given[3].id, given[7].id, given[19].id]);
    expect(log.append(given)).toBe(true);
    await log.flush();
    expect(log.depth, String(errors)).toBe(0);
    expect(log.written).toBe(22);
    expect(errors).toHaveLength(3);
    expect(errors.map(String).join('\n')).toMatch(/unsupported Unicode escape sequence/);
    expect(errors.map(String).join('\n')).toMatch(/invalid input syntax for type json/);
    const { rows } = await target.query('select id, inputs from predictions where model_name = $1', [model]);
    expect(rows.map((r) => r.id).sort()).toEqual(given.filter((r) => !refused.has(r.id)).map((r) => r.id).sort());
    expect(rows.find((r) => r.id === given[4].id)?.inputs).toEqual({ city: 'north' });

    // Later rows are written as usual.
    const more = records(model, 5);
    expect(log.append(more)).toBe(true);
    await log.flush();
    expect(log.depth).toBe(0);
    expect(log.written).toBe(27);
    expect(errors).toHaveLength(3);
    const { rows: after } = await target.query('select count(*)::int as n from predictions where model_name = $1', [model]);
    expect(after[0].n).toBe(27);
  } finally {
    await log.close();
  }
}
