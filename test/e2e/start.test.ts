// README's quickstart: `npm start` on embedded defaults brings everything up, runs the demo, stops cleanly
// on Ctrl-C, and a second start reuses the state in the data directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { freePort, isListening } from '../../lib/runtime/ports.js';
import { waitFor } from '../setup/harness.js';

let dataDir: string;
const children: ChildProcess[] = [];

afterAll(async () => {
  // Kill the whole process group: tsx runs node as a child, which runs the Temporal dev server.
  for (const c of children) if (c.exitCode === null && c.pid) process.kill(-c.pid, 'SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startMlcycle(env: Record<string, string>): Started {
  const child = spawn(path.resolve('node_modules/.bin/tsx'), ['cli/mlcycle.ts', 'start'], {
    env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env },
    detached: true,
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitForOutput(s: Started, text: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!s.output().includes(text)) {
    if (s.child.exitCode !== null) throw new Error(`mlcycle exited early:\n${s.output()}`);
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${JSON.stringify(text)}:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('npm start', () => {
  it('runs the demo end to end on embedded defaults and restarts on the same state', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'mlcycle-start-'));
    const ports = { temporal: await freePort(), ui: await freePort(), pg: await freePort(), api: await freePort() };
    const env = {
      MLCYCLE_DATA_DIR: dataDir,
      MLCYCLE_TEMPORAL_PORT: String(ports.temporal),
      MLCYCLE_TEMPORAL_UI_PORT: String(ports.ui),
      MLCYCLE_EMBEDDED_PG_PORT: String(ports.pg),
      API_PORT: String(ports.api),
      TEMPORAL_CLI_PATH: inject('temporalCliPath'),
    };
    const api = `http://127.0.0.1:${ports.api}`;

    const first = startMlcycle(env);
    await waitForOutput(first, 'Press Ctrl-C to stop');
    expect(first.output()).toContain('(new version)');
    const runId = /Training run (train-credit-default-[0-9a-f]+) started/.exec(first.output())![1];
    const releaseId = /in release workflow (release-credit-default-v\d+)/.exec(first.output())![1];
    expect(first.output()).toContain(`temporal workflow update execute --address 127.0.0.1:${ports.temporal}`);

    const ui = await fetch(`http://127.0.0.1:${ports.ui}/api/v1/namespaces`);
    expect(ui.status).toBe(200);

    // The first start created an admin key: only its hash is in Postgres, the plaintext in a 0600 file.
    const keyFile = path.join(dataDir, 'admin-api-key');
    expect(first.output()).toContain(`Created the first admin API key (shown once; only its hash is stored, and a copy is in ${keyFile})`);
    expect(first.output()).toContain((await readFile(keyFile, 'utf8')).trim());
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const key = (await readFile(keyFile, 'utf8')).trim();
    const auth = { authorization: `Bearer ${key}` };
    expect((await fetch(`${api}/v1/approvals`)).status).toBe(401);

    const approve = await fetch(`${api}/v1/approvals/${releaseId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ decision: 'approve', reason: 'looks good' }),
    });
    expect(approve.status).toBe(200);
    // The Update answers once the decision is recorded; @production moves a moment later.
    const predictOnce = () =>
      fetch(`${api}/v1/models/credit-default/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ rows: [{ income: 42.5, debt_ratio: 0.61, age: 29, late_payments: 2, utilization: 0.83 }] }),
      });
    let predict = await predictOnce();
    for (let i = 0; i < 50 && predict.status === 404; i++) {
      await new Promise((r) => setTimeout(r, 200));
      predict = await predictOnce();
    }
    expect(predict.status).toBe(200);
    expect(((await predict.json()) as { version: number }).version).toBe(1);

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    for (const port of Object.values(ports)) expect(await isListening('127.0.0.1', port)).toBe(false);

    const second = startMlcycle(env);
    await waitForOutput(second, 'Press Ctrl-C to stop');
    expect(second.output()).toContain('already ingested, reused');
    expect(second.output()).toContain('version 2 is trained');
    expect(second.output()).not.toContain('Created the first admin API key');
    expect((await readFile(keyFile, 'utf8')).trim()).toBe(key);
    // The first run survived the restart. Ctrl-C may have come between the release moving @production and the
    // training workflow recording it; the restarted worker finishes that durable work, so its stage gets there.
    const stage = async () => ((await (await fetch(`${api}/v1/training-runs/${runId}`, { headers: auth })).json()) as { stage: string }).stage;
    expect(await waitFor(stage, (s) => s === 'completed', 30_000)).toBe('completed');
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  }, 300_000);
});
