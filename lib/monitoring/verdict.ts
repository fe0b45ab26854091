// Verdicts on drift: effect sizes decide, p-values only corroborate, and too little data never decides.

import { computeDrift } from './drift.js';
import type { CategoricalDrift, ColumnDrift, DriftReport, NumericDrift, WassersteinDrift } from './drift.js';
import type { TrainingProfile } from './profile.js';
import { resolveThresholds, thresholdsForColumn } from './thresholds.js';
import type { DriftThresholds, DriftThresholdSettings, DriftThresholdsInput, LevelThresholds } from './thresholds.js';
import type { WindowAggregates } from './window.js';

export type CheckLevel = 'ok' | 'warn' | 'drift';
export type DriftStatus = CheckLevel | 'insufficient_data';
export type DriftMetric = 'psi' | 'wasserstein' | 'js_distance' | 'missing_rate_change' | 'unseen_share';
export type ColumnRole = 'feature' | 'output';

/** Unseen categories named in a reason; the numbers keep more. */
const UNSEEN_NAMED_IN_REASON = 5;

export interface DriftCheck {
  metric: DriftMetric;
  /** The effect size compared with the thresholds. */
  value: number;
  thresholds: LevelThresholds;
  /** Level from the effect size alone. */
  effectLevel: CheckLevel;
  /** The test asked to corroborate; null when the check needs none (an unseen category is a fact, not an estimate). */
  test: { name: 'ks' | 'chi_square'; pValue: number } | null;
  corroborated: boolean | null;
  /** Final level: the effect level, or one lower when the test does not corroborate it. */
  level: CheckLevel;
}

export interface ColumnVerdict {
  column: string;
  role: ColumnRole;
  status: DriftStatus;
  /** Why the status is not ok, one sentence per finding. */
  reasons: string[];
  checks: DriftCheck[];
  /** The drift numbers behind the checks; null when the window had no aggregate for the column. */
  numbers: ColumnDrift | null;
}

export interface DriftVerdictNumbers {
  /** Rows in the window (the largest column total). */
  windowSize: number;
  statusCounts: Record<DriftStatus, number>;
  drifted: string[];
  warned: string[];
  insufficient: string[];
  /** Worst status over the output columns; null when the profile has no output. */
  outputStatus: DriftStatus | null;
}

export interface DriftVerdict {
  status: DriftStatus;
  reasons: string[];
  numbers: DriftVerdictNumbers;
  features: ColumnVerdict[];
  outputs: ColumnVerdict[];
}

const LEVEL_RANK: Record<CheckLevel, number> = { ok: 0, warn: 1, drift: 2 };

function worst(levels: Iterable<CheckLevel>): CheckLevel {
  let result: CheckLevel = 'ok';
  for (const level of levels) if (LEVEL_RANK[level] > LEVEL_RANK[result]) result = level;
  return result;
}

function effectLevel(value: number, thresholds: LevelThresholds): CheckLevel {
  if (value >= thresholds.drift) return 'drift';
  if (value >= thresholds.warn) return 'warn';
  return 'ok';
}

const ONE_LEVEL_LOWER: Record<CheckLevel, CheckLevel> = { drift: 'warn', warn: 'ok', ok: 'ok' };

function check(
  metric: DriftMetric,
  value: number,
  thresholds: LevelThresholds,
  test: DriftCheck['test'],
  significanceLevel: number,
): DriftCheck {
  const effect = effectLevel(value, thresholds);
  // A large window makes any difference "significant", so the p-value never raises a level; it can
  // only hold back an effect a small window may have produced by chance.
  const corroborated = test === null ? null : test.pValue < significanceLevel;
  const level = corroborated === false ? ONE_LEVEL_LOWER[effect] : effect;
  return { metric, value, thresholds, effectLevel: effect, test, corroborated, level };
}

const num = (x: number): string => String(Number(x.toPrecision(3)));
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const points = (x: number): string => `${(x * 100).toFixed(1)} percentage points`;
const pValueText = (p: number): string => (p < 0.001 ? p.toExponential(1) : String(Number(p.toPrecision(2))));

const SCALE_UNITS: Record<WassersteinDrift['scaleSource'], string> = {
  iqr: 'reference IQRs',
  std: 'reference standard deviations',
  magnitude: '× the reference value',
  unit: 'data units',
};

function describeFinding(c: DriftCheck, drift: ColumnDrift): string {
  const at = `≥ ${c.effectLevel} threshold`;
  const line = c.thresholds[c.effectLevel as 'warn' | 'drift'];
  switch (c.metric) {
    case 'psi': {
      const outside = drift.kind === 'numeric' ? drift.belowRangeShare + drift.aboveRangeShare : 0;
      const range =
        drift.kind === 'numeric' && outside >= 0.01
          ? ` (${pct(drift.belowRangeShare)} of values below, ${pct(drift.aboveRangeShare)} above the training range)`
          : '';
      return `PSI ${num(c.value)} ${at} ${num(line)}${range}`;
    }
    case 'wasserstein': {
      const w = (drift as NumericDrift).wasserstein!;
      return `Wasserstein distance ${num(c.value)} ${SCALE_UNITS[w.scaleSource]} ${at} ${num(line)} (${num(w.distance)} in data units)`;
    }
    case 'js_distance':
      return `Jensen-Shannon distance ${num(c.value)} ${at} ${num(line)}`;
    case 'missing_rate_change':
      return `missing rate ${pct(drift.missing.referenceRate)} → ${pct(drift.missing.windowRate)}, a change of ${points(c.value)} ${at} ${points(line)}`;
    case 'unseen_share': {
      const unseen = (drift as CategoricalDrift).unseen;
      const named = unseen.top.slice(0, UNSEEN_NAMED_IN_REASON).map((u) => `${JSON.stringify(u.category)} ${pct(u.share)}`);
      const more = unseen.distinctCount - named.length;
      const pooled = unseen.referenceOtherShare > 0 ? ` (${pct(c.value)} beyond the ${pct(unseen.referenceOtherShare)} the profile pools as rare)` : '';
      return `${pct(unseen.share)} of values in categories unseen in training${pooled} ${at} ${pct(line)}: ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
    }
  }
}

function reasonFor(c: DriftCheck, drift: ColumnDrift): string {
  const text = describeFinding(c, drift);
  if (c.corroborated !== false || c.test === null) return text;
  const testName = c.test.name === 'ks' ? 'KS' : 'chi-square';
  return `${text}, but ${testName} p = ${pValueText(c.test.pValue)} does not corroborate it, so held at ${c.level}`;
}

function distributionChecks(drift: ColumnDrift, settings: DriftThresholdSettings): DriftCheck[] {
  const alpha = settings.significanceLevel;
  const checks: DriftCheck[] = [];
  if (drift.kind === 'numeric') {
    const ks = drift.ks ? { name: 'ks' as const, pValue: drift.ks.pValue } : null;
    if (drift.psi !== null) checks.push(check('psi', drift.psi, settings.psi, ks, alpha));
    if (drift.wasserstein) checks.push(check('wasserstein', drift.wasserstein.normalised, settings.wasserstein, ks, alpha));
  } else {
    const chi = drift.chiSquare ? { name: 'chi_square' as const, pValue: drift.chiSquare.pValue } : null;
    if (drift.psi !== null) checks.push(check('psi', drift.psi, settings.psi, chi, alpha));
    if (drift.jsDistance !== null) checks.push(check('js_distance', drift.jsDistance, settings.jsDistance, chi, alpha));
    checks.push(check('unseen_share', drift.unseen.excessShare, settings.unseenShare, null, alpha));
  }
  return checks;
}

/** The verdict on one column, from its drift numbers (null when the window had no aggregate for it). */
export function judgeColumn(column: string, role: ColumnRole, drift: ColumnDrift | null, settings: DriftThresholdSettings): ColumnVerdict {
  const verdict = (status: DriftStatus, reasons: string[], checks: DriftCheck[] = []): ColumnVerdict => ({
    column,
    role,
    status,
    reasons,
    checks,
    numbers: drift,
  });
  if (drift === null) return verdict('insufficient_data', ['the window has no aggregate for this column']);
  if (drift.windowTotal < settings.minSampleSize) {
    return verdict('insufficient_data', [`the window has ${drift.windowTotal} rows; at least ${settings.minSampleSize} are needed to judge drift`]);
  }
  const checks = [
    check('missing_rate_change', Math.abs(drift.missing.change), settings.missingRateChange, { name: 'chi_square', pValue: drift.missing.pValue }, settings.significanceLevel),
  ];
  const notes: string[] = [];
  if (drift.referenceCount < settings.minReferenceSize) {
    notes.push(`the training profile has ${drift.referenceCount} values; at least ${settings.minReferenceSize} are needed to compare distributions`);
  } else if (drift.windowCount < settings.minSampleSize) {
    notes.push(`the window has ${drift.windowCount} values (the rest missing); at least ${settings.minSampleSize} are needed to compare distributions`);
  } else {
    checks.push(...distributionChecks(drift, settings));
  }
  const level = worst(checks.map((c) => c.level));
  const reasons = checks.filter((c) => c.level !== 'ok').map((c) => reasonFor(c, drift));
  // Missingness alone can still be judged; if it is fine, an unjudged distribution is not "ok".
  if (notes.length > 0 && level === 'ok') return verdict('insufficient_data', notes, checks);
  return verdict(level, [...reasons, ...notes], checks);
}

function judgeColumns(
  role: ColumnRole,
  drifts: Record<string, ColumnDrift>,
  missing: readonly string[],
  thresholds: DriftThresholds,
): ColumnVerdict[] {
  return [
    ...Object.entries(drifts).map(([column, drift]) => judgeColumn(column, role, drift, thresholdsForColumn(thresholds, role, column))),
    ...missing.map((column) => judgeColumn(column, role, null, thresholdsForColumn(thresholds, role, column))),
  ];
}

const label = (v: ColumnVerdict): string => (v.role === 'output' ? `output ${v.column}` : v.column);

function worstStatus(verdicts: readonly ColumnVerdict[]): DriftStatus {
  const judged = verdicts.filter((v) => v.status !== 'insufficient_data');
  return judged.length === 0 ? 'insufficient_data' : worst(judged.map((v) => v.status as CheckLevel));
}

/**
 * The overall verdict on a window: the worst column status among columns with enough data, or
 * insufficient_data when the window is too small or no column could be judged.
 */
export function judgeDrift(report: DriftReport, thresholdsInput: DriftThresholdsInput = {}): DriftVerdict {
  const thresholds = resolveThresholds(thresholdsInput);
  const features = judgeColumns('feature', report.features, report.missingFeatures, thresholds);
  const outputs = judgeColumns('output', report.outputs, report.missingOutputs, thresholds);
  const all = [...features, ...outputs];
  const windowSize = Math.max(0, ...all.map((v) => v.numbers?.windowTotal ?? 0));
  const statusCounts: Record<DriftStatus, number> = { ok: 0, warn: 0, drift: 0, insufficient_data: 0 };
  for (const v of all) statusCounts[v.status]++;
  const named = (status: DriftStatus) => all.filter((v) => v.status === status).map(label);
  const numbers: DriftVerdictNumbers = {
    windowSize,
    statusCounts,
    drifted: named('drift'),
    warned: named('warn'),
    insufficient: named('insufficient_data'),
    outputStatus: outputs.length > 0 ? worstStatus(outputs) : null,
  };
  if (windowSize < thresholds.minSampleSize) {
    const reasons = [`the window has ${windowSize} rows; at least ${thresholds.minSampleSize} are needed to judge drift`];
    return { status: 'insufficient_data', reasons, numbers, features, outputs };
  }
  const status = worstStatus(all);
  const reasons = all
    .filter((v) => v.status === 'drift' || v.status === 'warn')
    .sort((a, b) => LEVEL_RANK[b.status as CheckLevel] - LEVEL_RANK[a.status as CheckLevel])
    .map((v) => `${label(v)}: ${v.status}: ${v.reasons.join('; ')}`);
  if (status === 'insufficient_data') reasons.push('no column had enough data to judge');
  else if (numbers.insufficient.length > 0) reasons.push(`not judged for lack of data: ${numbers.insufficient.join(', ')}`);
  return { status, reasons, numbers, features, outputs };
}

/** Profile + window aggregates + a model's thresholds → verdict: what the monitoring activity calls. */
export function assessDrift(profile: TrainingProfile, window: WindowAggregates, thresholds?: DriftThresholdsInput): DriftVerdict {
  return judgeDrift(computeDrift(profile, window), thresholds);
}
