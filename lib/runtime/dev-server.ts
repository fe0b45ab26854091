// Runs the Temporal CLI's dev server (`temporal server start-dev`) as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { StartupError } from '../errors.js';
import { isListening, waitForPort } from './ports.js';

export interface DevServerOptions {
  cliPath: string;
  port: number;
  /** Web UI port; undefined runs headless. */
  uiPort?: number;
  /** SQLite file that keeps history across restarts; undefined keeps it in memory. */
  dbFile?: string;
  namespace: string;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Starts the dev server and resolves once its gRPC port and (if enabled) the UI answer. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  if (await isListening(HOST, opts.port)) {
    throw new StartupError(
      `Port ${opts.port} is already in use, so the embedded Temporal dev server cannot start. ` +
        `If a Temporal server is running there, set TEMPORAL_ADDRESS=${HOST}:${opts.port}; otherwise set MLCYCLE_TEMPORAL_PORT to a free port.`,
    );
  }
  if (opts.uiPort !== undefined && (await isListening(HOST, opts.uiPort))) {
    throw new StartupError(`Port ${opts.uiPort} (Temporal Web UI) is already in use; set MLCYCLE_TEMPORAL_UI_PORT to a free port.`);
  }
  const args = ['server', 'start-dev', '--ip', HOST, '--port', String(opts.port), '--namespace', opts.namespace, '--log-level', 'warn', '--log-format', 'json'];
  if (opts.dbFile) {
    await mkdir(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  if (opts.uiPort === undefined) args.push('--headless');
  else args.push('--ui-ip', HOST, '--ui-port', String(opts.uiPort));

  const child: ChildProcess = spawn(opts.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = false;
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-4000);
    for (const line of text.split('\n')) if (line.trim()) opts.log?.(line);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  child.once('error', (err) => {
    exited = true;
    output += `\n${err.message}`;
  });

  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exitedPromise;
    clearTimeout(timer);
  };

  const ready = await waitForPort(HOST, opts.port, 60_000, () => !exited);
  if (!ready) {
    await stop();
    throw new StartupError(`The Temporal dev server (${opts.cliPath}) did not start on ${HOST}:${opts.port}. Its last output:\n${output.trim() || '(none)'}`);
  }
  let uiUrl: string | undefined;
  if (opts.uiPort !== undefined) {
    uiUrl = `http://${HOST === '127.0.0.1' ? 'localhost' : HOST}:${opts.uiPort}`;
    // The UI comes up about a second after the frontend; wait so the printed link works.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const ok = await fetch(`http://${HOST}:${opts.uiPort}/api/v1/namespaces`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { address: `${HOST}:${opts.port}`, uiUrl, stop };
}
