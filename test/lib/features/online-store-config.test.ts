// MLCYCLE_ONLINE_STORE: Postgres unless set; a Redis URL picks Redis; anything else fails naming the variable.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.js';
import { ConfigError } from '../../../lib/errors.js';

const config = (value?: string) => loadConfig(value === undefined ? {} : { MLCYCLE_ONLINE_STORE: value }, '/tmp');

describe('MLCYCLE_ONLINE_STORE', () => {
  it('defaults to Postgres, so `npm start` needs nothing new', () => {
    expect(config().onlineStore).toEqual({ backend: 'postgres' });
    expect(config('').onlineStore).toEqual({ backend: 'postgres' });
    expect(config('postgres').onlineStore).toEqual({ backend: 'postgres' });
  });

  it('takes redis:// and rediss:// URLs', () => {
    expect(config('redis://127.0.0.1:6379/0').onlineStore).toEqual({ backend: 'redis', url: 'redis://127.0.0.1:6379/0' });
    expect(config('rediss://:secret@cache.internal:6380').onlineStore).toEqual({ backend: 'redis', url: 'rediss://:secret@cache.internal:6380' });
  });

  it('refuses anything else, naming the variable and hiding a password', () => {
    expect(() => config('localhost:6379')).toThrow(ConfigError);
    expect(() => config('localhost:6379')).toThrow(/MLCYCLE_ONLINE_STORE must start with redis:\/\//);
    expect(() => config('not a url')).toThrow(/MLCYCLE_ONLINE_STORE is not a URL/);
    expect(() => config('http://cache:6379')).toThrow(/MLCYCLE_ONLINE_STORE must start with redis:\/\//);
    const err = (() => { try { config('redis://:hunter2@cache:6379/cache'); } catch (e) { return e as Error; } })();
    expect(err?.message).toMatch(/a Redis database is a number/);
    expect(err?.message).not.toContain('hunter2');
  });
});
