// Batch scoring end to end (lib/serving/batch-scoring.ts: read the dataset version, score batch by batch, store
// each part and commit it, assemble the result) on the serving issue's model (100-tree GBDT, 20 features), against
// raw onnxruntime session.run over the same rows in batches of 1024 and of the job's batch size, prebuilt tensors.
// Temporal is left out: it adds a few fixed round trips per run, not per row.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeVector, Table, tableToIPC } from 'apache-arrow';
import ort from 'onnxruntime-node';
import { createSession } from '../lib/onnx/session.js';
import { registerUploadedModelVersion } from '../lib/registry/registry.js';
import { assembleResult, scoreBatches, startRun, type BatchScoringPlan } from '../lib/serving/batch-scoring.js';
import { ArtifactStore } from '../lib/storage/artifacts.js';
import { connectDb, supportsCopyFromStdin } from '../lib/storage/db.js';
import { migrate } from '../lib/storage/migrate.js';
import { scratchDatabase } from './scratch-db.js';
import { featureNames, FEATURES, servingModel, syntheticRows, TREES } from './serving-model.js';

const ROWS = Number(process.env.BENCH_BATCH_ROWS ?? 200_000);
const BATCH_ROWS = 10_000;

async function main(): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'mlcycle-bench-batch-'));
  const scratch = await scratchDatabase('batch_scoring');
  const db = await connectDb(scratch.url);
  try {
    await migrate(db);
    const artifacts = new ArtifactStore(path.join(tmp, 'artifacts'));
    const model = servingModel();
    const storedModel = await artifacts.put(model.bytes);
    const modelName = `bench-batch-${Date.now()}`;
    await registerUploadedModelVersion(db, { modelName, sha256: storedModel.sha256, uri: storedModel.uri, signature: model.signature, metrics: {}, params: {}, createdBy: 'bench' });

    // The dataset version as ingestion stores it: float64 columns in one Arrow IPC file, plus an id.
    const X = syntheticRows(ROWS, 5);
    const columns: Record<string, ReturnType<typeof makeVector>> = { id: makeVector(Float64Array.from({ length: ROWS }, (_, i) => i + 1)) };
    featureNames.forEach((f, j) => {
      columns[f] = makeVector(Float64Array.from({ length: ROWS }, (_, i) => X[i * FEATURES + j]));
    });
    const dataset = await artifacts.put(tableToIPC(new Table(columns), 'file'));

    const deps = { db, artifacts };
    const run = async (name: string, output: { table: string | null; file: 'arrow' | null }) => {
      const runId = `bench-${name}-${Date.now()}`;
      await startRun(db, runId, { datasetVersionId: 'bench', modelName, version: 1, keyColumns: ['id'], batchRows: BATCH_ROWS, output: output.table ? { table: output.table } : { file: 'arrow' } });
      const plan: BatchScoringPlan = {
        runId,
        datasetVersionId: 'bench',
        datasetUri: dataset.uri,
        query: null,
        modelName,
        version: 1,
        modelUri: storedModel.uri,
        modelSha256: storedModel.sha256,
        keyColumns: [{ name: 'id', type: 'float64' }],
        batchRows: BATCH_ROWS,
        rows: ROWS,
        batches: Math.ceil(ROWS / BATCH_ROWS),
        outputTable: output.table,
        outputFile: output.file,
      };
      const start = performance.now();
      await scoreBatches(deps, plan);
      await assembleResult(deps, plan);
      return ROWS / ((performance.now() - start) / 1000);
    };

    // Raw onnxruntime: the same rows, already float32 tensors, one call per batch.
    const session = await createSession(model.bytes);
    const raw = async (batch: number) => {
      const tensors: ort.Tensor[] = [];
      for (let from = 0; from < ROWS; from += batch) {
        const n = Math.min(batch, ROWS - from);
        tensors.push(new ort.Tensor('float32', X.subarray(from * FEATURES, (from + n) * FEATURES), [n, FEATURES]));
      }
      const start = performance.now();
      for (const t of tensors) await session.run({ [model.signature.inputName]: t });
      return ROWS / ((performance.now() - start) / 1000);
    };

    // Alternate the sides twice and keep each one's best, so a burst of load from elsewhere hits both alike.
    // What Postgres alone takes to store the same rows (keys, WAL, no parsing, no transport): the table path's floor.
    const insertAlone = async (from: string) => {
      const copy = `${from}_again`;
      await db.query(`create table ${copy} (like ${from} including all)`);
      const start = performance.now();
      await db.query(`insert into ${copy} select * from ${from}`);
      return ROWS / ((performance.now() - start) / 1000);
    };
    const best = { raw1024: 0, rawJob: 0, file: 0, table: 0, insert: 0 };
    await raw(1024);
    await run('warmup', { table: null, file: 'arrow' });
    for (let round = 0; round < 2; round++) {
      const table = `bench_scores_${round}_${Date.now()}`;
      best.raw1024 = Math.max(best.raw1024, await raw(1024));
      best.rawJob = Math.max(best.rawJob, await raw(BATCH_ROWS));
      best.file = Math.max(best.file, await run(`file${round}`, { table: null, file: 'arrow' }));
      best.table = Math.max(best.table, await run(`table${round}`, { table, file: null }));
      best.insert = Math.max(best.insert, await insertAlone(table));
    }
    await session.release();
    const method = (await supportsCopyFromStdin(db)) ? 'COPY' : 'batched INSERT (PGlite)';
    const fmt = (rps: number) => Math.round(rps).toLocaleString('en-US');
    const lines = [
      `## Batch scoring (${ROWS.toLocaleString('en-US')} rows × ${FEATURES} features, ${TREES}-tree GBDT)`,
      '',
      `Batches of ${BATCH_ROWS.toLocaleString('en-US')} rows; best of 2 rounds per side, the sides alternating.`,
      '',
      '| what | rows/s | ÷ raw onnxruntime, 1024-row batches |',
      '|---|---|---|',
      `| raw onnxruntime \`session.run\`, 1024-row batches (reference) | ${fmt(best.raw1024)} | 1.00× |`,
      `| raw onnxruntime \`session.run\`, ${BATCH_ROWS.toLocaleString('en-US')}-row batches | ${fmt(best.rawJob)} | ${(best.rawJob / best.raw1024).toFixed(2)}× |`,
      `| batch scoring end to end → Arrow IPC file | ${fmt(best.file)} | ${(best.file / best.raw1024).toFixed(2)}× |`,
      `| batch scoring end to end → Postgres table (${method}) | ${fmt(best.table)} | ${(best.table / best.raw1024).toFixed(2)}× |`,
      `| for comparison: Postgres alone inserting the same rows into the same table (\`insert … select\`) | ${fmt(best.insert)} | ${(best.insert / best.raw1024).toFixed(2)}× |`,
      '',
      `Target: end to end >= 50% of raw batched onnxruntime: ${best.file / best.raw1024 >= 0.5 ? 'met' : 'NOT met'} (file), ${best.table / best.raw1024 >= 0.5 ? 'met' : 'NOT met'} (table).`,
      'End to end = `scoreBatches` + `assembleResult` (lib/serving/batch-scoring.ts): read the dataset version, convert each batch',
      'to tensors, score, store the scored part and commit it with its rows, then join the parts; Temporal excluded.',
      `Postgres: ${scratch.kind} (DATABASE_URL's server when set). Absolute rates move with the machine's load (see the load average below); the ratios are the figures to compare.`,
      'Command: `npm run bench -- batch-scoring`.',
      '',
    ];
    console.log(lines.join('\n'));
  } finally {
    await db.end();
    await scratch.drop();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
