// Online scoring over HTTP: /v1 predict and /v2 infer through the whole API (auth, routing, micro-batching,
// prediction log) against a bare Fastify route answering a same-size JSON body in the same process; and the
// micro-batching gain: concurrent single-row requests with batching on vs off. Loopback only, and the load is
// bounded: a fixed number of requests at a fixed concurrency. The load generator shares the process (and the
// cores) with the server, equally for every row, so the ratios are the figures to read.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import type { Client } from '@temporalio/client';
import { buildApp } from '../api/app.js';
import { createApiKey } from '../api/auth.js';
import { loadConfig } from '../lib/config.js';
import { exportLinearClassifier, linearSignature, type LinearPipeline } from '../lib/onnx/linear-classifier.js';
import { registerUploadedModelVersion, setAlias } from '../lib/registry/registry.js';
import { startEmbeddedPostgres } from '../lib/runtime/embedded-postgres.js';
import { freePort } from '../lib/runtime/ports.js';
import { ArtifactStore } from '../lib/storage/artifacts.js';
import { connectDb } from '../lib/storage/db.js';
import { migrate } from '../lib/storage/migrate.js';

const FEATURES = 20;
const features = Array.from({ length: FEATURES }, (_, i) => `f${i}`);
const pipeline: LinearPipeline = {
  features,
  imputeValues: features.map(() => 0),
  mean: features.map(() => 0),
  scale: features.map(() => 1),
  coefficients: features.map((_, i) => (i % 2 ? 0.03 : -0.02)),
  intercept: 0.1,
  classes: ['no', 'yes'],
};
const row = Object.fromEntries(features.map((f, j) => [f, (j * 7) % 13]));
const MODEL = 'bench-http';

interface Load {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
}

/** `total` POSTs of `body` to `url`, `concurrency` at a time (keep-alive); latency percentiles in ms. */
async function load(url: string, body: string, headers: Record<string, string>, total: number, concurrency: number): Promise<Load> {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const t0 = performance.now();
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      await res.arrayBuffer();
      if (res.status !== 200) failed++;
      latencies.push(performance.now() - t0);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { rps: total / seconds, p50: q(0.5), p99: q(0.99), failed };
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcycle-bench-http-'));
  // Its own database: BENCH_DATABASE_URL (a real Postgres, logged by COPY) or an in-memory embedded PGlite.
  const pg = process.env.BENCH_DATABASE_URL ? undefined : await startEmbeddedPostgres({ port: await freePort() });
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? pg!.url;
  const db = await connectDb(databaseUrl);
  const apps: Array<{ close(): Promise<unknown> }> = [];
  try {
    await migrate(db);
    const artifacts = new ArtifactStore(path.join(tmp, 'artifacts'));
    const stored = await artifacts.put(exportLinearClassifier(pipeline));
    const version = await registerUploadedModelVersion(db, { modelName: MODEL, sha256: stored.sha256, uri: stored.uri, signature: linearSignature(pipeline), metrics: {}, params: {}, createdBy: 'bench' });
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
    const batched = await api({ rows: 256, waitMs: 1 });
    const unbatched = await api({ rows: 1, waitMs: 0 });

    const v1Body = JSON.stringify({ rows: [row] });
    const v2Body = JSON.stringify({ inputs: [{ name: 'features', shape: [1, FEATURES], datatype: 'FP32', data: features.map((f) => row[f]) }] });
    const sample = await fetch(`${batched}/v1/models/${MODEL}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: v1Body });
    if (sample.status !== 200) throw new Error(`predict answered ${sample.status}: ${await sample.text()}`);
    const answer = await sample.text();

    // The reference: a bare route answering a body of the same size, no work.
    const bare = Fastify({ logger: false });
    apps.push(bare);
    bare.post('/bare', async (_req, reply) => reply.type('application/json').send(answer));
    const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

    const total = 3000;
    const targets = [
      { name: 'bare Fastify route', url: `${bareUrl}/bare`, body: v1Body },
      { name: '`POST /v1/models/:name/predict`', url: `${batched}/v1/models/${MODEL}/predict`, body: v1Body },
      { name: '`POST /v2/models/:name/infer`', url: `${batched}/v2/models/${MODEL}/infer`, body: v2Body },
    ];
    const lines = [
      `## Online scoring over HTTP (${FEATURES} features, logistic regression, 1 row per request)`,
      '',
      `${total} requests per cell, keep-alive, loopback; the load generator runs in the same process.`,
      '',
      '| route | concurrency | requests/s | p50 | p99 | vs bare route |',
      '|---|---|---|---|---|---|',
    ];
    for (const concurrency of [1, 16, 64]) {
      let reference = 0;
      for (const t of targets) {
        await load(t.url, t.body, auth, 300, concurrency); // warm-up
        const r = await load(t.url, t.body, auth, total, concurrency);
        if (t.url.endsWith('/bare')) reference = r.rps;
        const failed = r.failed ? ` (${r.failed} failed)` : '';
        lines.push(`| ${t.name} | ${concurrency} | ${r.rps.toFixed(0)}${failed} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${(r.rps / reference).toFixed(2)}× |`);
      }
    }

    lines.push('', '### Micro-batching gain (concurrent single-row `/v1` predicts)', '', '| concurrency | batching off (1 row per call) | batching on (≤256 rows, 1 ms wait) | gain |', '|---|---|---|---|');
    for (const concurrency of [16, 64]) {
      const runs: Load[] = [];
      for (const base of [unbatched, batched]) {
        const url = `${base}/v1/models/${MODEL}/predict`;
        await load(url, v1Body, auth, 300, concurrency);
        runs.push(await load(url, v1Body, auth, total, concurrency));
      }
      const [off, on] = runs;
      lines.push(`| ${concurrency} | ${off.rps.toFixed(0)} req/s, p99 ${off.p99.toFixed(2)} ms | ${on.rps.toFixed(0)} req/s, p99 ${on.p99.toFixed(2)} ms | ${(on.rps / off.rps).toFixed(2)}× |`);
    }
    lines.push(
      '',
      `Command: \`npm run bench -- serving-http\`. Postgres: ${process.env.BENCH_DATABASE_URL ? 'BENCH_DATABASE_URL' : 'embedded PGlite (prediction log by multi-row INSERT)'}. ` +
        'Not yet the issue\'s 100-tree GBDT; the model here is a linear classifier, so the figures are mostly HTTP and serving overhead.',
      '',
    );
    console.log(lines.join('\n'));
  } finally {
    for (const app of apps.reverse()) await app.close().catch(() => {});
    await db.end();
    await pg?.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
