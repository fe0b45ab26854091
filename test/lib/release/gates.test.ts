import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors.js';
import { computeMetric, evaluateGates, validateGateConfig } from '../../../lib/evaluation/index.js';
import { exportLinearClassifier, linearSignature } from '../../../lib/onnx/linear-classifier.js';
import { createSession } from '../../../lib/onnx/session.js';
import { applicableProbes, defaultGateConfig, effectiveGateConfig, summarizeGates, taskOf, validateDeclaredGateConfig } from '../../../lib/release/gates.js';
import { featureColumns, permutationImportance, robustnessProbeRows, rowCount, scoreColumns, singleRowLatencies } from '../../../lib/release/scoring.js';
import type { ModelSignature } from '../../../lib/training/types.js';
import { evaluationIpc, pipeline } from './fixtures.js';

const numeric = linearSignature(pipeline([1, 0.5]));
const withStrings: ModelSignature = { ...numeric, features: [...numeric.features, { name: 'city', type: 'string', categories: ['a'] }] };

describe('gate configuration', () => {
  it('has a valid default per task', () => {
    for (const task of ['binary', 'multiclass', 'regression'] as const) expect(() => validateGateConfig(defaultGateConfig(task))).not.toThrow();
    expect(defaultGateConfig('regression').baseline?.[0].metric).toBe('rmse');
    expect(taskOf(numeric)).toBe('binary');
    expect(taskOf({ task: 'regression', classes: ['prediction'] })).toBe('regression');
  });

  it('asks for unseen-category probes only of models with string inputs', () => {
    expect(applicableProbes(numeric)).toEqual(['missing_values', 'extreme_values']);
    expect(applicableProbes(withStrings)).toEqual(['missing_values', 'extreme_values', 'unseen_categories']);
    expect(effectiveGateConfig(null, numeric).robustness?.requiredProbes).toEqual(['missing_values', 'extreme_values']);
    // declared probes are kept as declared
    expect(effectiveGateConfig({ robustness: { requiredProbes: ['missing_values'] } }, numeric).robustness?.requiredProbes).toEqual(['missing_values']);
    // a declared config replaces the default entirely
    expect(effectiveGateConfig({ metrics: [{ metric: 'accuracy', min: 0.7 }] }, numeric)).toEqual({ metrics: [{ metric: 'accuracy', min: 0.7 }] });
  });

  it('refuses malformed declarations with a ValidationError naming the field', () => {
    expect(() => validateDeclaredGateConfig([])).toThrow(ValidationError);
    expect(() => validateDeclaredGateConfig({ metricz: [] })).toThrow(/metricz/);
    expect(() => validateDeclaredGateConfig({ metrics: [{ metric: 'auc', min: 0.5 }] })).toThrow(/unknown metric "auc"/);
    expect(() => validateDeclaredGateConfig({ champion: [{ metric: 'roc_auc' }] })).toThrow(/margin is required/);
    expect(validateDeclaredGateConfig({ slices: [{ column: 'segment', metric: 'accuracy', maxGap: 0.1 }] })).toBeTruthy();
  });
});

describe('scoring an evaluation set', async () => {
  const table = tableFromIPC(evaluationIpc(200));
  const columns = featureColumns(table, numeric);
  const good = await createSession(exportLinearClassifier(pipeline([1, 0.5])));

  it('reads the signature columns and names a missing one', () => {
    expect(rowCount(columns)).toBe(200);
    expect(() => featureColumns(table, { ...numeric, features: [{ name: 'zzz', type: 'float' }] })).toThrow(/no column "zzz".*a, b, segment, __label/);
  });

  it('scores in batches into row-major class probabilities', async () => {
    const batches: number[] = [];
    const p = await scoreColumns(good, numeric, columns, { batchSize: 64, onBatch: (done) => batches.push(done) });
    expect(p).toHaveLength(400);
    expect(batches).toEqual([64, 128, 192, 200]);
    for (let i = 0; i < 200; i++) expect(p[2 * i] + p[2 * i + 1]).toBeCloseTo(1, 5);
    const y = table.getChild('__label')!.toArray() as Int32Array;
    expect(computeMetric('roc_auc', 'binary', y, p)).toBeGreaterThan(0.85);
  });

  it('builds missing and extreme probes whose predictions stay valid for the logistic pipeline', async () => {
    const probes = robustnessProbeRows(numeric, columns, 10);
    expect(Object.keys(probes)).toEqual(['missing_values', 'extreme_values']);
    expect(rowCount(probes.missing_values)).toBe(30); // each feature missing alone, then all
    expect(rowCount(probes.extreme_values)).toBe(40); // each feature at +big and -big
    expect(Number.isNaN((probes.missing_values.a as Float64Array)[0])).toBe(true);
    const predictions = await scoreColumns(good, numeric, probes.extreme_values);
    const report = evaluateGates({ robustness: { requiredProbes: applicableProbes(numeric) } }, {
      task: 'binary',
      yTrue: [0],
      candidate: [0.5],
      robustnessProbes: [
        { name: 'missing_values', predictions: await scoreColumns(good, numeric, probes.missing_values) },
        { name: 'extreme_values', predictions },
      ],
    });
    expect(report.passed).toBe(true);
  });

  it('times single-row calls and ranks the informative feature first', async () => {
    const latencies = await singleRowLatencies(good, numeric, columns, 50);
    expect(latencies).toHaveLength(50);
    expect(latencies.every((ms) => ms > 0 && ms < 1000)).toBe(true);
    const y = table.getChild('__label')!.toArray() as Int32Array;
    const importance = await permutationImportance(good, numeric, columns, (o) => computeMetric('log_loss', 'binary', y, o));
    expect(importance.map((f) => f.feature)).toEqual(['a', 'b']);
    expect(importance[0].importance).toBeGreaterThan(importance[1].importance);
    expect(importance[1].importance).toBeGreaterThan(0);
  });

  it('summarises a report one line per gate', () => {
    const report = evaluateGates({ size: { maxBytes: 10 }, metrics: [{ metric: 'accuracy', min: 0 }] }, { task: 'binary', yTrue: [0, 1], candidate: [0.2, 0.9], sizeBytes: 11 });
    expect(summarizeGates(report)).toMatchObject({ passed: false, total: 2, failed: 1, gates: [{ kind: 'metric', passed: true }, { kind: 'size', passed: false }] });
  });
});
