// The predictor's alias cache: reuse within the TTL, drop on a move made in this process, never cache a miss.
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../../lib/registry/registry.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../lib/registry/registry.js')>();
  return { ...real, getVersionByAlias: vi.fn() };
});

const registry = await import('../../../lib/registry/registry.js');
const { Predictor } = await import('../../../lib/serving/predictor.js');
const lookup = vi.mocked(registry.getVersionByAlias);

function predictor(aliasTtlMs: number) {
  return new Predictor({ db: {} as never, artifacts: {} as never }, { aliasTtlMs });
}

describe('Predictor.resolveAlias', () => {
  it('asks Postgres once per TTL, and again as soon as the alias moves in this process', async () => {
    lookup.mockReset();
    lookup.mockResolvedValueOnce({ version: 1 } as never).mockResolvedValueOnce({ version: 2 } as never);
    const p = predictor(60_000);
    expect((await p.resolveAlias('m')).version).toBe(1);
    expect((await p.resolveAlias('m')).version).toBe(1);
    expect(lookup).toHaveBeenCalledTimes(1);
    registry.notifyAliasMoved('other', 'production');
    expect((await p.resolveAlias('m')).version).toBe(1);
    registry.notifyAliasMoved('m', 'production');
    expect((await p.resolveAlias('m')).version).toBe(2);
    expect(lookup).toHaveBeenCalledTimes(2);
    await p.close();
  });

  it('re-reads after the TTL and never caches a missing alias', async () => {
    lookup.mockReset();
    lookup.mockRejectedValueOnce(new Error('no @production yet')).mockResolvedValue({ version: 3 } as never);
    const p = predictor(1);
    await expect(p.resolveAlias('m')).rejects.toThrow('no @production');
    expect((await p.resolveAlias('m')).version).toBe(3);
    await new Promise((r) => setTimeout(r, 5));
    await p.resolveAlias('m');
    expect(lookup).toHaveBeenCalledTimes(3);
    await p.close();
  });
});
