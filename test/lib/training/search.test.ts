// Search plans: grid and random configurations, successive halving rungs, ranking, and refusals.
import { describe, expect, it } from 'vitest';
import { resolveParams } from '../../../lib/training/params.js';
import { configurations, halvingRungs, rankTrials, validateSearch } from '../../../lib/training/search.js';

describe('search plans', () => {
  it('grid: every combination; random: seeded draws within range', () => {
    expect(configurations({ strategy: 'grid', space: { C: { values: [0.1, 1] }, impute: { values: ['mean', 'median'] } } }, 1)).toEqual([
      { C: 0.1, impute: 'mean' },
      { C: 0.1, impute: 'median' },
      { C: 1, impute: 'mean' },
      { C: 1, impute: 'median' },
    ]);
    const spec = { strategy: 'random' as const, space: { C: { min: 0.01, max: 100, log: true } }, trials: 6 };
    const a = configurations(spec, 3);
    expect(a).toHaveLength(6);
    expect(configurations(spec, 3)).toEqual(a);
    for (const t of a) expect(t.C).toBeGreaterThanOrEqual(0.01);
  });

  it('halving: keeps 1/eta per rung and ends at the full budget', () => {
    expect(halvingRungs(9, 3, 11, 100)).toEqual([
      { configs: 9, budget: 11 },
      { configs: 3, budget: 33 },
      { configs: 1, budget: 99 },
    ]);
    expect(halvingRungs(8, 2, 30, 100).at(-1)).toEqual({ configs: 2, budget: 100 });
  });

  it('ranks by direction, NaN last, ties to the earlier trial', () => {
    const t = (id: string, score: number, higherIsBetter = true) => ({ trialId: id, params: {}, score, higherIsBetter });
    expect(rankTrials([t('a', 0.7), t('b', Number.NaN), t('c', 0.9), t('d', 0.9)]).map((x) => x.trialId)).toEqual(['c', 'd', 'a', 'b']);
    expect(rankTrials([t('a', 2, false), t('b', 1, false)]).map((x) => x.trialId)).toEqual(['b', 'a']);
  });

  it('refuses unknown hyperparameters and impossible specs, naming them', () => {
    const logistic = { learner: 'logistic' as const };
    expect(() => validateSearch({ strategy: 'grid', space: { Cee: { values: [1] } } }, logistic)).toThrow(/search.space.Cee/);
    expect(() => validateSearch({ strategy: 'grid', space: { 'gbdt.maxLeaves': { values: [4] } } }, logistic)).toThrow(/gbdt learner only/);
    expect(() => validateSearch({ strategy: 'grid', space: { C: { min: 1, max: 2 } } }, logistic)).toThrow(/list of values/);
    expect(() => validateSearch({ strategy: 'halving', space: { maxIterations: { values: [1, 2] } } }, logistic)).toThrow(/budget/);
    expect(() => resolveParams({ Cee: 1 } as never)).toThrow(/Unknown hyperparameter params.Cee/);
    expect(() => resolveParams({ learner: 'gbdt', gbdt: { leaves: 3 } })).toThrow(/params.gbdt.leaves/);
  });
});
