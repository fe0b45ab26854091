import { describe, expect, it } from 'vitest';

import { EvaluationInputError } from '../../../lib/evaluation/errors.js';
import { evaluateGates, STANDARD_ROBUSTNESS_PROBES, validateGateConfig } from '../../../lib/evaluation/gates.js';
import { rocAuc } from '../../../lib/evaluation/metrics.js';
import { seededRandom as mulberry32 } from '../../../lib/util/random.js';
import type { GateConfig, GateInputs, GateResult } from '../../../lib/evaluation/types.js';

/**
 * A binary test set where the candidate ranks well and the production model (champion) is
 * noisier, with a region column where the "east" slice is noisier for both.
 */
function binaryFixture() {
  const random = mulberry32(2024);
  const n = 600;
  const yTrue: number[] = [];
  const candidate: number[] = [];
  const champion: number[] = [];
  const region: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const y = random() < 0.4 ? 1 : 0;
    const r = i % 3 === 0 ? 'north' : i % 3 === 1 ? 'south' : 'east';
    const noise = r === 'east' ? 0.9 : 0.5;
    yTrue.push(y);
    candidate.push(Math.min(1, Math.max(0, 0.3 + 0.4 * y + (random() - 0.5) * noise)));
    champion.push(Math.min(1, Math.max(0, 0.3 + 0.4 * y + (random() - 0.5) * noise * 1.8)));
    region.push(i === 5 ? null : r);
  }
  return { yTrue, candidate, champion, region };
}

const data = binaryFixture();
const probes = STANDARD_ROBUSTNESS_PROBES.map((name) => ({ name, predictions: [0.1, 0.5, 0.9] }));
const latencyMs = Array.from({ length: 200 }, (_, i) => i + 1);

const inputs: GateInputs = {
  task: 'binary',
  yTrue: data.yTrue,
  candidate: data.candidate,
  champion: data.champion,
  groups: { region: data.region },
  robustnessProbes: probes,
  latencyMs,
  sizeBytes: 1_500_000,
};

const passingConfig: GateConfig = {
  metrics: [{ metric: 'roc_auc', min: 0.8 }, { metric: 'log_loss', max: 0.6 }],
  baseline: [{ metric: 'roc_auc', minImprovement: 0.1 }, { metric: 'brier' }],
  champion: [{ metric: 'roc_auc', margin: 0.02, resamples: 300, seed: 1 }],
  slices: [{ column: 'region', metric: 'roc_auc', maxGap: 0.2, minRows: 30 }],
  robustness: {},
  latency: { maxP99Ms: 250 },
  size: { maxBytes: 2_000_000 },
};

function gate<K extends GateResult['kind']>(results: readonly GateResult[], kind: K): Extract<GateResult, { kind: K }> {
  const found = results.find((g) => g.kind === kind);
  if (!found) throw new Error(`no ${kind} gate`);
  return found as Extract<GateResult, { kind: K }>;
}

describe('evaluateGates', () => {
  it('passes a good candidate on every declared gate, in a fixed order, with the numbers', () => {
    const report = evaluateGates(passingConfig, inputs);
    for (const g of report.gates) expect(g.passed, `${g.name}: ${g.summary}`).toBe(true);
    expect(report.passed).toBe(true);
    expect(report.gates.map((g) => g.kind)).toEqual([
      'metric', 'metric', 'baseline', 'baseline', 'champion', 'slice', 'robustness', 'latency', 'size',
    ]);
    const metric = gate(report.gates, 'metric');
    expect(metric.details.value).toBeCloseTo(rocAuc(data.yTrue, data.candidate), 12);
    expect(metric.name).toBe('roc_auc >= 0.8');
    expect(gate(report.gates, 'baseline').details.baseline).toBe(0.5);
    expect(gate(report.gates, 'champion').details.bootstrap?.resamples).toBe(300);
    expect(gate(report.gates, 'latency').details.p99Ms).toBe(198);
    expect(report.gates.every((g) => g.error === null)).toBe(true);
  });

  it('produces a JSON-safe result (it travels as a Temporal payload)', () => {
    const report = evaluateGates(passingConfig, inputs);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('overall fails when any gate fails, and says why with numbers', () => {
    const report = evaluateGates({ ...passingConfig, metrics: [{ metric: 'roc_auc', min: 0.99 }] }, inputs);
    expect(report.passed).toBe(false);
    const failed = report.gates.filter((g) => !g.passed);
    expect(failed.map((g) => g.name)).toEqual(['roc_auc >= 0.99']);
    expect(failed[0].summary).toMatch(/^roc_auc = 0\.\d+, required >= 0\.99$/);
  });

  it('an empty config declares no gates and passes', () => {
    expect(evaluateGates({}, inputs)).toEqual({ passed: true, gates: [] });
  });
});

describe('baseline gate', () => {
  it('fails a model no better than the class prior', () => {
    const constant = data.yTrue.map(() => 0.4);
    const report = evaluateGates({ baseline: [{ metric: 'roc_auc' }] }, { ...inputs, candidate: constant });
    const g = gate(report.gates, 'baseline');
    expect(g.passed).toBe(false);
    expect(g.details.improvement).toBe(0);
  });

  it('uses training class frequencies when given, and the mean for regression', () => {
    const withPrior = evaluateGates(
      { baseline: [{ metric: 'log_loss' }] },
      { ...inputs, naiveBaseline: { classFrequencies: [0.5, 0.5] } },
    );
    expect(gate(withPrior.gates, 'baseline').details.baseline).toBeCloseTo(Math.log(2), 12);

    const yTrue = [1, 2, 3, 4, 5, 6];
    const good = evaluateGates({ baseline: [{ metric: 'rmse' }] }, { task: 'regression', yTrue, candidate: [1.1, 2, 3.2, 4, 4.9, 6] });
    const g = gate(good.gates, 'baseline');
    expect(g.passed).toBe(true);
    expect(g.details.baseline).toBeCloseTo(Math.sqrt(17.5 / 6), 12); // std of 1..6 around 3.5
    expect(g.details.naivePredictor).toBe('constant mean 3.5');
  });

  it('requires at least minImprovement', () => {
    const report = evaluateGates({ baseline: [{ metric: 'roc_auc', minImprovement: 0.45 }] }, inputs);
    expect(gate(report.gates, 'baseline').passed).toBe(false);
  });
});

describe('champion gate', () => {
  it('passes, marked skipped, when there is no production version (champion: null)', () => {
    const g = gate(evaluateGates(passingConfig, { ...inputs, champion: null }).gates, 'champion');
    expect(g.passed).toBe(true);
    expect(g.details.skipped).toBe(true);
  });

  it('fails when the champion outputs were simply not provided', () => {
    const { champion: _omitted, ...withoutChampion } = inputs;
    const g = gate(evaluateGates(passingConfig, withoutChampion).gates, 'champion');
    expect(g.passed).toBe(false);
    expect(g.error).toMatch(/pass champion: null when there is no production version/);
  });

  it('fails a candidate clearly worse than production, on the lower bound', () => {
    const worse = data.candidate.map((p, i) => (i % 4 === 0 ? 1 - p : p));
    const g = gate(evaluateGates(passingConfig, { ...inputs, candidate: worse }).gates, 'champion');
    expect(g.passed).toBe(false);
    expect(g.details.worstPlausibleDiff).toBeLessThan(-0.02);
    expect(g.details.worstPlausibleDiff).toBe(g.details.bootstrap?.lower);
  });
});

describe('slice gap gate', () => {
  it('lists every group, compares the large ones and names worst and best', () => {
    const g = gate(evaluateGates(passingConfig, inputs).gates, 'slice');
    const byValue = Object.fromEntries(g.details.groups.map((x) => [String(x.value), x]));
    expect(Object.keys(byValue).sort()).toEqual(['east', 'north', 'null', 'south']);
    expect(byValue.null.note).toMatch(/fewer than 30 rows/);
    expect(g.details.worst).toBe('east');
    const compared = g.details.groups.filter((x) => x.metric !== null).map((x) => x.metric as number);
    expect(g.details.gap).toBeCloseTo(Math.max(...compared) - Math.min(...compared), 12);
  });

  it('fails when the gap exceeds maxGap', () => {
    const g = gate(evaluateGates({ slices: [{ column: 'region', metric: 'roc_auc', maxGap: 0.01 }] }, inputs).gates, 'slice');
    expect(g.passed).toBe(false);
    expect(g.summary).toMatch(/region = east/);
  });

  it('fails with an actionable error when the column is missing or groups are too small', () => {
    const missing = gate(evaluateGates({ slices: [{ column: 'age_band', metric: 'roc_auc', maxGap: 0.1 }] }, inputs).gates, 'slice');
    expect(missing.passed).toBe(false);
    expect(missing.error).toMatch(/group column "age_band" was not provided/);
    const small = gate(evaluateGates({ slices: [{ column: 'region', metric: 'roc_auc', maxGap: 1, minRows: 1000 }] }, inputs).gates, 'slice');
    expect(small.passed).toBe(false);
    expect(small.error).toMatch(/lower minRows/);
  });
});

describe('robustness gate', () => {
  it('fails on non-finite or out-of-range predictions and reports the first bad row', () => {
    const bad = [
      { name: 'missing_values', predictions: [0.2, Number.NaN, 0.3] },
      { name: 'extreme_values', predictions: [0.2, 1.5] },
      { name: 'unseen_categories', predictions: [0.5] },
    ];
    const g = gate(evaluateGates({ robustness: {} }, { ...inputs, robustnessProbes: bad }).gates, 'robustness');
    expect(g.passed).toBe(false);
    expect(g.details.probes[0]).toEqual({ name: 'missing_values', rows: 3, nonFinite: 1, outOfRange: 0, firstBadRow: 1 });
    expect(g.details.probes[1]).toMatchObject({ outOfRange: 1, firstBadRow: 1 });
  });

  it('allows any finite value for regression, and fails when a required probe is missing', () => {
    const reg = gate(
      evaluateGates({ robustness: { requiredProbes: ['extreme_values'] } }, {
        task: 'regression', yTrue: [1, 2], candidate: [1, 2], robustnessProbes: [{ name: 'extreme_values', predictions: [-1e9, 1e9] }],
      }).gates,
      'robustness',
    );
    expect(reg.passed).toBe(true);
    const missing = gate(evaluateGates({ robustness: {} }, { ...inputs, robustnessProbes: probes.slice(1) }).gates, 'robustness');
    expect(missing.passed).toBe(false);
    expect(missing.details.missingProbes).toEqual(['missing_values']);
  });
});

describe('latency and size gates', () => {
  it('uses the nearest-rank p99 and needs enough samples', () => {
    expect(gate(evaluateGates({ latency: { maxP99Ms: 197 } }, inputs).gates, 'latency').passed).toBe(false);
    expect(gate(evaluateGates({ latency: { maxP99Ms: 198 } }, inputs).gates, 'latency').passed).toBe(true);
    const few = gate(evaluateGates({ latency: { maxP99Ms: 1000 } }, { ...inputs, latencyMs: [1, 2, 3] }).gates, 'latency');
    expect(few.passed).toBe(false);
    expect(few.error).toMatch(/only 3 latency samples; at least 100/);
    expect(gate(evaluateGates({ latency: { maxP99Ms: 1000, minSamples: 3 } }, { ...inputs, latencyMs: [1, 2, 3] }).gates, 'latency').passed).toBe(true);
  });

  it('checks the size budget and fails when the size is unknown', () => {
    expect(gate(evaluateGates({ size: { maxBytes: 1_000_000 } }, inputs).gates, 'size').passed).toBe(false);
    const { sizeBytes: _omitted, ...withoutSize } = inputs;
    expect(gate(evaluateGates({ size: { maxBytes: 1_000_000 } }, withoutSize).gates, 'size').error).toMatch(/sizeBytes/);
  });
});

describe('config validation', () => {
  it('throws EvaluationInputError naming the bad entry', () => {
    expect(() => validateGateConfig({ metrics: [{ metric: 'auc' as never, min: 0.5 }] })).toThrow(/metrics\[0\]: unknown metric "auc"/);
    expect(() => validateGateConfig({ metrics: [{ metric: 'roc_auc' }] })).toThrow(/declare min, max or both/);
    expect(() => validateGateConfig({ champion: [{ metric: 'roc_auc', margin: -0.1 }] })).toThrow(EvaluationInputError);
    expect(() => validateGateConfig({ slices: [{ column: 'x', metric: 'roc_auc', maxGap: Number.NaN }] })).toThrow(/maxGap/);
    expect(() => validateGateConfig({ threshold: 2 })).toThrow(/threshold/);
  });

  it('turns a metric that does not fit the task into a failed gate with the reason', () => {
    const g = gate(evaluateGates({ metrics: [{ metric: 'rmse', max: 1 }] }, inputs).gates, 'metric');
    expect(g.passed).toBe(false);
    expect(g.error).toMatch(/does not apply to a binary task/);
  });
});
