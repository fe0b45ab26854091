// Start-up failures: each names what failed and how to fix it, and leaves nothing half-started.
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { ConfigError, StartupError } from '../../lib/errors.js';
import { freePort, isListening } from '../../lib/runtime/ports.js';
import { resolveTemporalCli } from '../../lib/runtime/temporal-cli.js';
import { startRuntime } from '../../workers/runtime.js';

async function tmp() {
  return mkdtemp(path.join(os.tmpdir(), 'mlcycle-startup-'));
}

/** Runs the CLI and collects its exit code and output. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(path.resolve('node_modules/.bin/tsx'), ['cli/mlcycle.ts', ...args], { env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('start-up errors', () => {
  it('an unreachable DATABASE_URL fails naming the variable, before anything else starts', async () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:secret@127.0.0.1:1/db', TEMPORAL_ADDRESS: '127.0.0.1:1', MLCYCLE_DATA_DIR: await tmp() });
    const err = await startRuntime(config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(/Cannot connect to Postgres at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db.*DATABASE_URL/s);
    expect((err as Error).message).not.toContain('secret');
  });

  it('an unreachable TEMPORAL_ADDRESS fails naming the variable and stops the embedded Postgres it started', async () => {
    const pgPort = await freePort();
    const config = loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1', MLCYCLE_EMBEDDED_PG_PORT: String(pgPort), MLCYCLE_DATA_DIR: await tmp() });
    const err = await startRuntime(config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(/Cannot reach Temporal at 127\.0\.0\.1:1.*TEMPORAL_ADDRESS/s);
    expect(await isListening('127.0.0.1', pgPort)).toBe(false);
  });

  it('a TEMPORAL_CLI_PATH that is not an executable is a config error', async () => {
    await expect(resolveTemporalCli({ cliPath: '/no/such/temporal', dataDir: await tmp() })).rejects.toThrow(ConfigError);
  });

  it('the CLI exits non-zero with the variable and the fix for a bad env var', async () => {
    const { code, out } = await runCli(['start'], { API_PORT: 'abc' });
    expect(code).toBe(1);
    expect(out).toContain('API_PORT="abc" is not a TCP port');
  });
});
