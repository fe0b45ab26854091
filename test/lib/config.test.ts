import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';

describe('loadConfig', () => {
  it('uses embedded defaults when nothing is set', () => {
    const c = loadConfig({}, '/srv/app');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.temporal.address).toBeUndefined();
    expect(c.dataDir).toBe('/srv/app/.data');
    expect(c.artifactDir).toBe('/srv/app/.data/artifacts');
    expect(c.temporal.uiPort).toBe(DEFAULTS.uiPort);
    expect(c.taskQueues).toEqual({ orchestration: 'mlcycle', train: 'mlcycle-train' });
  });

  it('derives the train queue from the orchestration queue', () => {
    expect(loadConfig({ MLCYCLE_TASK_QUEUE: 'ml' }).taskQueues).toEqual({ orchestration: 'ml', train: 'ml-train' });
  });

  it('takes given services and paths', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/x', TEMPORAL_ADDRESS: 'temporal:7233', ARTIFACT_DIR: '/a' }, '/w');
    expect(c.databaseUrl).toBe('postgres://u:p@db:5432/x');
    expect(c.temporal.address).toBe('temporal:7233');
    expect(c.artifactDir).toBe(path.resolve('/a'));
  });

  it.each([
    [{ API_PORT: 'abc' }, 'API_PORT'],
    [{ API_PORT: '70000' }, 'API_PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ TEMPORAL_ADDRESS: 'http://localhost:7233' }, 'TEMPORAL_ADDRESS'],
    [{ MLCYCLE_TRAIN_CONCURRENCY: '0' }, 'MLCYCLE_TRAIN_CONCURRENCY'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ MLCYCLE_TASK_QUEUE: ' ' }, 'MLCYCLE_TASK_QUEUE'],
  ])('rejects %j naming the variable', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});
