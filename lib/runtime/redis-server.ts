// A throwaway redis-server for tests and benchmarks: a free loopback port, no persistence.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort, waitForPort } from './ports.js';

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** Debian installs redis-server to /usr/bin, which a trimmed PATH may lack. */
function redisServerPath(): string {
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn(redisServerPath(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', () => (exited = true));
  if (!(await waitForPort('127.0.0.1', port, 10_000, () => !exited))) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not listen on 127.0.0.1:${port} (is it installed? apt-get install redis-server)`);
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    stop: () => new Promise<void>((resolve) => (exited ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM')))),
  };
}
