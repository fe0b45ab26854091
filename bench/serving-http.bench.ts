// Online scoring over HTTP on the serving issue's model (100-tree GBDT, 20 features, bench/serving-model.ts):
// /v1 predict and /v2 infer through the whole API (auth, routing, micro-batching, prediction log) against a bare
// Fastify route answering a same-size JSON body, at concurrency 1, 16 and 64, with autocannon on loopback; then
// p99 at half of each route's peak throughput (a rate-limited run); and the micro-batching gain (the same API with
// one row per onnxruntime call). Every run is
// bounded in time. autocannon runs in a worker thread, the servers on the main thread; the machine's cores are
// shared by both (and by whatever else runs), equally for every row, so the ratios are the figures to read.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import type { Client } from '@temporalio/client';
import { buildApp } from '../api/app.js';
import { createApiKey } from '../api/auth.js';
import { loadConfig } from '../lib/config.js';
import { registerUploadedModelVersion, setAlias } from '../lib/registry/registry.js';
import { ArtifactStore } from '../lib/storage/artifacts.js';
import { connectDb } from '../lib/storage/db.js';
import { migrate } from '../lib/storage/migrate.js';
import { scratchDatabase } from './scratch-db.js';
import { featureNames, FEATURES, jsonRow, servingModel, syntheticRows, TREES } from './serving-model.js';

const MODEL = 'bench-http';
/** Seconds per measured cell (after a 1 s warm-up on the same target). */
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 3);

interface Load {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  /** CPU time of the servers' thread (this process's main thread) per answered request, in µs; NaN off Linux. */
  mainUsPerRequest: number;
}

/** CPU time (user + system) this process's main thread has used, in ms; NaN where /proc is missing. */
async function mainThreadCpuMs(): Promise<number> {
  try {
    const stat = await readFile(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in clock ticks (USER_HZ, 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** POSTs `body` to `url` over `connections` keep-alive connections for `seconds` (optionally at `rate` req/s overall). */
async function load(url: string, body: string, headers: Record<string, string>, connections: number, seconds: number, rate?: number): Promise<Load> {
  const cpuBefore = await mainThreadCpuMs();
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    connections,
    duration: seconds,
    workers: 1,
    ...(rate ? { overallRate: Math.max(1, Math.round(rate)) } : {}),
  });
  const cpuMs = (await mainThreadCpuMs()) - cpuBefore;
  return { rps: r.requests.total / seconds, p50: r.latency.p50, p99: r.latency.p99, failed: r.non2xx + r.errors + r.timeouts, mainUsPerRequest: (1000 * cpuMs) / Math.max(1, r.requests.total) };
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcycle-bench-http-'));
  // Its own database: a scratch one in DATABASE_URL's Postgres (prediction log by COPY), else an embedded PGlite.
  const scratch = await scratchDatabase('serving_http');
  const databaseUrl = scratch.url;
  const db = await connectDb(databaseUrl);
  const apps: Array<{ close(): Promise<unknown> }> = [];
  try {
    await migrate(db);
    const artifacts = new ArtifactStore(path.join(tmp, 'artifacts'));
    const model = servingModel();
    const stored = await artifacts.put(model.bytes);
    const version = await registerUploadedModelVersion(db, { modelName: MODEL, sha256: stored.sha256, uri: stored.uri, signature: model.signature, metrics: {}, params: {}, createdBy: 'bench' });
    await setAlias(db, { modelName: MODEL, alias: 'production', version: version.version, actor: 'bench', reason: 'bench', source: 'bench' });
    const key = (await createApiKey(db, { name: 'bench', roles: ['scorer'] })).key;
    const auth = { authorization: `Bearer ${key}` };

    // The API never reaches Temporal on the scoring routes; the client is not used.
    const client = {} as Client;
    const api = async (batch: { rows: number; waitMs: number }) => {
      const config = loadConfig({
        DATABASE_URL: databaseUrl,
        MLCYCLE_DATA_DIR: tmp,
        LOG_LEVEL: 'error',
        MLCYCLE_PREDICT_MAX_BATCH_ROWS: String(batch.rows),
        MLCYCLE_PREDICT_MAX_WAIT_MS: String(batch.waitMs),
      });
      const app = await buildApp({ config, db, artifacts, client }, { logger: false });
      apps.push(app);
      return app.listen({ host: '127.0.0.1', port: 0 });
    };
    // Served as configured by default: up to 256 rows per call, no wait when the version is idle.
    const batched = await api({ rows: 256, waitMs: 0 });
    const unbatched = await api({ rows: 1, waitMs: 0 });

    const row = jsonRow(syntheticRows(1, 99), 0);
    const v1Body = JSON.stringify({ rows: [row] });
    const v2Body = JSON.stringify({ inputs: [{ name: model.signature.inputName, shape: [1, FEATURES], datatype: 'FP32', data: featureNames.map((f) => row[f]) }] });
    const sample = await fetch(`${batched}/v1/models/${MODEL}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: v1Body });
    if (sample.status !== 200) throw new Error(`predict answered ${sample.status}: ${await sample.text()}`);
    const answer = await sample.text();

    // The reference: a bare route answering a body of the same size, no work.
    const bare = Fastify({ logger: false });
    apps.push(bare);
    bare.post('/bare', async (_req, reply) => reply.type('application/json').send(answer));
    const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

    const targets = [
      { name: 'bare Fastify route', url: `${bareUrl}/bare`, body: v1Body },
      { name: '`POST /v1/models/:name/predict`', url: `${batched}/v1/models/${MODEL}/predict`, body: v1Body },
      { name: '`POST /v2/models/:name/infer`', url: `${batched}/v2/models/${MODEL}/infer`, body: v2Body },
    ];
    const lines = [
      `## Online scoring over HTTP (${TREES}-tree GBDT, ${FEATURES} features, 1 row per request)`,
      '',
      `autocannon, ${SECONDS} s per cell after a 1 s warm-up, keep-alive, loopback; autocannon in a worker thread of the same process. Latencies in whole milliseconds, as autocannon records them. The last column is the CPU time the servers\' thread spent per answered request (the bottleneck: the other core runs autocannon, Postgres and the prediction log\'s writer thread); unlike requests/s it hardly moves with other load on the machine.`,
      '',
      '| route | concurrency | requests/s | p50 | p99 | vs bare route | server thread CPU per request |',
      '|---|---|---|---|---|---|---|',
    ];
    const peak = new Map<string, number>();
    for (const concurrency of [1, 16, 64]) {
      let reference = 0;
      for (const t of targets) {
        await load(t.url, t.body, auth, concurrency, 1);
        const r = await load(t.url, t.body, auth, concurrency, SECONDS);
        if (t.url.endsWith('/bare')) reference = r.rps;
        peak.set(t.name, Math.max(peak.get(t.name) ?? 0, r.rps));
        const failed = r.failed ? ` (${r.failed} failed)` : '';
        lines.push(`| ${t.name} | ${concurrency} | ${r.rps.toFixed(0)}${failed} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${(r.rps / reference).toFixed(2)}× | ${r.mainUsPerRequest.toFixed(0)} µs |`);
      }
    }

    lines.push(
      '',
      '### Latency at half the peak throughput',
      '',
      'Each route at a fixed overall rate of half its best requests/s above, over 16 connections (target: p99 <= 5 ms).',
      '',
      '| route | rate (req/s) | achieved | p50 | p99 | target met |',
      '|---|---|---|---|---|---|',
    );
    for (const t of targets) {
      const rate = peak.get(t.name)! / 2;
      await load(t.url, t.body, auth, 16, 1, rate);
      const r = await load(t.url, t.body, auth, 16, SECONDS, rate);
      lines.push(`| ${t.name} | ${rate.toFixed(0)} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.p99 <= 5 ? 'yes' : 'NO'} |`);
    }

    lines.push('', '### Micro-batching gain (concurrent single-row `/v1` predicts)', '', '| concurrency | batching off (1 row per call) | batching on (≤256 rows, no wait) | gain |', '|---|---|---|---|');
    for (const concurrency of [16, 64]) {
      const runs: Load[] = [];
      for (const base of [unbatched, batched]) {
        const url = `${base}/v1/models/${MODEL}/predict`;
        await load(url, v1Body, auth, concurrency, 1);
        runs.push(await load(url, v1Body, auth, concurrency, SECONDS));
      }
      const [off, on] = runs;
      lines.push(`| ${concurrency} | ${off.rps.toFixed(0)} req/s, p99 ${off.p99.toFixed(2)} ms | ${on.rps.toFixed(0)} req/s, p99 ${on.p99.toFixed(2)} ms | ${(on.rps / off.rps).toFixed(2)}× |`);
    }
    const bestBare = peak.get(targets[0].name)!;
    lines.push(
      '',
      `Peak throughput vs the bare route's peak (target >= 60%): /v1 ${((100 * peak.get(targets[1].name)!) / bestBare).toFixed(0)}%, /v2 ${((100 * peak.get(targets[2].name)!) / bestBare).toFixed(0)}%.`,
      '',
      `Command: \`npm run bench -- serving-http\`. Postgres: ${scratch.kind === 'Postgres' ? 'a scratch database in DATABASE_URL\'s server (prediction log by COPY)' : 'embedded PGlite in the same process (prediction log by multi-row INSERT)'}. ` +
        "Absolute figures move with the machine's load (see the load average below); the ratios are the figures to compare.",
      '',
    );
    console.log(lines.join('\n'));
  } finally {
    for (const app of apps.reverse()) await app.close().catch(() => {});
    await db.end();
    await scratch.drop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
