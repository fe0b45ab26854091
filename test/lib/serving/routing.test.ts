import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../../lib/util/uuid7.js';
import { bucket, route, type RoutingState } from '../../../lib/serving/routing.js';

const state = (canaryPercent: number, shadowFraction = 0): RoutingState => ({
  stableVersion: 1,
  canaryVersion: canaryPercent > 0 ? 2 : null,
  canaryPercent,
  shadowVersion: shadowFraction > 0 ? 3 : null,
  shadowFraction,
});
const keys = Array.from({ length: 20_000 }, (_, i) => `entity-${i}`);

describe('routing', () => {
  it('sends the same key to the same arm every time', () => {
    for (const k of keys.slice(0, 200)) expect(route('m', state(30), k)).toEqual(route('m', state(30), k));
  });

  it('splits traffic close to the canary percentage', () => {
    const share = keys.filter((k) => route('m', state(25), k).arm === 'canary').length / keys.length;
    expect(share).toBeGreaterThan(0.235);
    expect(share).toBeLessThan(0.265);
  });

  it('splits request ids (time-ordered UUIDv7, the key when a request names no entity) just as evenly', () => {
    const ids = Array.from({ length: 20_000 }, () => uuidv7());
    const share = ids.filter((k) => route('m', state(25), k).arm === 'canary').length / ids.length;
    expect(share).toBeGreaterThan(0.235);
    expect(share).toBeLessThan(0.265);
  });

  it('only moves keys from stable to canary as the percentage grows', () => {
    const steps = [5, 25, 50, 100];
    for (const k of keys.slice(0, 5000)) {
      const arms = steps.map((p) => route('m', state(p), k).arm);
      const first = arms.indexOf('canary');
      expect(first).toBeGreaterThanOrEqual(0); // 100% always canary
      expect(arms.slice(first).every((a) => a === 'canary')).toBe(true);
    }
  });

  it('serves stable only with no canary, and canary everywhere at 100%', () => {
    expect(keys.slice(0, 500).every((k) => route('m', state(0), k).version === 1)).toBe(true);
    expect(keys.slice(0, 500).every((k) => route('m', state(100), k).version === 2)).toBe(true);
  });

  it('picks shadow copies independently of the canary split', () => {
    const routes = keys.map((k) => route('m', state(50, 0.2), k));
    const shadowed = routes.filter((r) => r.shadowVersion === 3);
    expect(shadowed.length / keys.length).toBeGreaterThan(0.185);
    expect(shadowed.length / keys.length).toBeLessThan(0.215);
    const canaryAmongShadowed = shadowed.filter((r) => r.arm === 'canary').length / shadowed.length;
    expect(canaryAmongShadowed).toBeGreaterThan(0.45);
    expect(canaryAmongShadowed).toBeLessThan(0.55);
  });

  it('splits models independently: one key may be canary for one model and stable for another', () => {
    const differ = keys.slice(0, 1000).filter((k) => (bucket('a', 'canary', k) < 0.5) !== (bucket('b', 'canary', k) < 0.5)).length;
    expect(differ).toBeGreaterThan(400);
  });
});
