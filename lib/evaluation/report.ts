// Renders the release evaluation report: one self-contained HTML page (inline CSS and SVG, no JS, no URLs).

import { formatNumber } from './format.js';
import { escapeHtml } from './html.js';
import type { ClassifierSummary, RegressorSummary } from './summary.js';
import { barChart, lineChart } from './svg.js';
import type { GateReport, GateResult, SliceGateResult } from './types.js';

export interface FeatureImportance {
  readonly feature: string;
  readonly importance: number;
}

export type LineageValue = string | number | boolean | null;

export interface ReportInput {
  readonly model: { readonly name: string; readonly version: string };
  /** ISO time, passed in rather than read from the clock so the same inputs render the same bytes. */
  readonly generatedAt: string;
  readonly classifier?: ClassifierSummary;
  readonly regressor?: RegressorSummary;
  /** Extra headline numbers (e.g. training metrics); shown after the computed ones. */
  readonly metrics?: Readonly<Record<string, number | null>>;
  readonly featureImportance?: readonly FeatureImportance[];
  readonly gates?: GateReport;
  /** Dataset version, code commit, params, parent run... shown as a key/value table. */
  readonly lineage?: Readonly<Record<string, LineageValue>>;
  /** Bars shown in the feature importance chart; default 25, largest |importance| first. */
  readonly maxFeatures?: number;
}

/** The section ids, in page order; tests and links can rely on them. */
export const REPORT_SECTIONS = [
  'gates',
  'metrics',
  'roc-curve',
  'pr-curve',
  'calibration',
  'confusion-matrix',
  'feature-importance',
  'slices',
  'lineage',
] as const;

export type ReportSection = (typeof REPORT_SECTIONS)[number];

const e = escapeHtml;

// default-src 'none' makes the browser refuse any external fetch even if some text slipped through.
const CSP = "default-src 'none'; style-src 'unsafe-inline'";

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:1100px;margin:0 auto;padding:16px 24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#126b1e;font-weight:600}.fail{color:#b00020;font-weight:600}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff}.verdict.pass{background:#126b1e}.verdict.fail{background:#b00020}
.muted{color:#666}.charts{display:flex;flex-wrap:wrap;gap:16px}
svg text{font-size:11px;fill:#333}svg .chart-title{font-size:13px;font-weight:600}svg .axis-label{font-size:12px}
svg .plot-area{fill:#fff;stroke:#999}svg .grid{stroke:#eee}svg .diagonal{stroke:#999;stroke-dasharray:4 4}
svg .bar{fill:#1f77b4}svg .bar.negative{fill:#d62728}svg .zero{stroke:#666}
.legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:12px}
.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
table.heatmap td{text-align:center;min-width:56px}
`;

function section(id: ReportSection, title: string, body: string): string {
  return `<section id="${id}"><h2>${e(title)}</h2>${body}</section>`;
}

const unavailable = (what: string): string => `<p class="muted">${e(what)}</p>`;

function table(headers: readonly string[], rows: readonly (readonly string[])[], className = ''): string {
  const head = headers.map((h) => `<th>${h}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.join('')}</tr>`).join('');
  return `<table${className ? ` class="${className}"` : ''}><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

const td = (text: string): string => `<td>${e(text)}</td>`;
const tdNum = (value: number | null | undefined): string => `<td class="num">${e(formatNumber(value))}</td>`;
const verdict = (passed: boolean): string => `<span class="${passed ? 'pass' : 'fail'}">${passed ? 'PASS' : 'FAIL'}</span>`;

function gatesSection(gates: GateReport | undefined): string {
  if (!gates) return section('gates', 'Gates', unavailable('No gates were evaluated.'));
  if (gates.gates.length === 0) return section('gates', 'Gates', unavailable('No gates are declared for this model.'));
  const rows = gates.gates.map((g) => [`<td>${verdict(g.passed)}</td>`, td(g.kind), td(g.name), td(g.summary), `<td>${gateNumbers(g)}</td>`]);
  return section('gates', 'Gates', table(['Result', 'Kind', 'Gate', 'Summary', 'Numbers'], rows));
}

/** The numbers behind a gate, flattened to key/value pairs (nested objects and lists are summarised elsewhere). */
function gateNumbers(gate: GateResult): string {
  const flat: [string, string][] = [];
  const details: Readonly<Record<string, unknown>> = gate.details;
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === 'number') flat.push([key, formatNumber(value)]);
    else if (typeof value === 'string' || typeof value === 'boolean') flat.push([key, String(value)]);
  }
  if (gate.kind === 'champion' && gate.details.bootstrap) {
    const b = gate.details.bootstrap;
    flat.push(
      ['candidate', formatNumber(b.candidate)],
      ['production', formatNumber(b.baseline)],
      ['diff', formatNumber(b.observedDiff)],
      [`CI ${formatNumber(b.confidence * 100)}%`, `${formatNumber(b.lower)} .. ${formatNumber(b.upper)}`],
      ['resamples', `${b.resamples} (seed ${b.seed}${b.skipped ? `, ${b.skipped} skipped` : ''})`],
    );
  }
  if (gate.kind === 'robustness') {
    for (const p of gate.details.probes) flat.push([p.name, `${p.nonFinite + p.outOfRange} bad of ${p.rows}`]);
  }
  return flat.map(([k, v]) => `${e(k)}: <b>${e(v)}</b>`).join('<br>');
}

function metricsSection(input: ReportInput): string {
  const rows: [string, number | null][] = [];
  const c = input.classifier;
  if (c) {
    rows.push(
      ['rows', c.rows],
      ['accuracy', c.scores.accuracy],
      ['precision (macro)', c.scores.macro.precision],
      ['recall (macro)', c.scores.macro.recall],
      ['F1 (macro)', c.scores.macro.f1],
      ['F1 (micro)', c.scores.micro.f1],
      ['ROC AUC', c.rocAuc],
      ['average precision', c.averagePrecision],
      ['log loss', c.logLoss],
      ['Brier score', c.brier],
    );
    if (c.calibration) rows.push(['expected calibration error', c.calibration.expectedCalibrationError]);
    if (c.task === 'binary') rows.push(['decision threshold', c.threshold]);
  }
  const r = input.regressor;
  if (r) rows.push(['rows', r.rows], ['RMSE', r.rmse], ['MAE', r.mae], ['R²', r.r2], ['MAPE', r.mape]);
  for (const [k, v] of Object.entries(input.metrics ?? {})) rows.push([k, v]);
  if (rows.length === 0) return section('metrics', 'Metrics', unavailable('No metrics were provided.'));

  let body = table(['Metric', 'Value'], rows.map(([k, v]) => [td(k), tdNum(v)]));
  if (c) {
    const perClass = c.scores.perClass.map((s) => [
      td(c.classNames[s.classIndex]),
      tdNum(s.precision),
      tdNum(s.recall),
      tdNum(s.f1),
      tdNum(s.support),
    ]);
    body += `<h3>Per class</h3>${table(['Class', 'Precision', 'Recall', 'F1', 'Support'], perClass)}`;
  }
  const notes = [...(c?.notes ?? []), ...(r?.notes ?? [])];
  if (notes.length) body += `<ul>${notes.map((n) => `<li class="muted">${e(n)}</li>`).join('')}</ul>`;
  return section('metrics', 'Metrics', body);
}

function rocSection(c: ClassifierSummary | undefined): string {
  if (!c || c.curves.length === 0) return section('roc-curve', 'ROC curve', unavailable('Not available for this model.'));
  const chart = lineChart({
    title: c.task === 'binary' ? 'ROC curve' : 'ROC curves (one-vs-rest)',
    xLabel: 'False positive rate',
    yLabel: 'True positive rate',
    diagonal: true,
    series: c.curves.map((curve) => ({
      label: `${curve.label} (AUC ${formatNumber(curve.rocAuc)})`,
      points: curve.roc.fpr.map((f, i) => [f, curve.roc.tpr[i]] as const),
    })),
  });
  return section('roc-curve', 'ROC curve', `<div class="charts">${chart}</div>`);
}

function prSection(c: ClassifierSummary | undefined): string {
  if (!c || c.curves.length === 0) return section('pr-curve', 'Precision-recall curve', unavailable('Not available for this model.'));
  const chart = lineChart({
    title: c.task === 'binary' ? 'Precision-recall curve' : 'Precision-recall curves (one-vs-rest)',
    xLabel: 'Recall',
    yLabel: 'Precision',
    series: c.curves.map((curve) => ({
      label: `${curve.label} (AP ${formatNumber(curve.averagePrecision)})`,
      points: curve.pr.recall.map((r, i) => [r, curve.pr.precision[i]] as const),
      steps: true,
    })),
  });
  return section('pr-curve', 'Precision-recall curve', `<div class="charts">${chart}</div>`);
}

function calibrationSection(c: ClassifierSummary | undefined): string {
  const calibration = c?.calibration;
  if (!calibration) return section('calibration', 'Calibration', unavailable('Available for binary classifiers only.'));
  const points = calibration.bins.flatMap((b) =>
    b.meanPredicted !== null && b.fractionPositive !== null ? [[b.meanPredicted, b.fractionPositive] as const] : [],
  );
  const chart = lineChart({
    title: 'Calibration',
    xLabel: 'Mean predicted probability',
    yLabel: 'Observed fraction of positives',
    diagonal: true,
    series: [{ label: 'model', points, markers: true }],
  });
  const rows = calibration.bins.map((b) => [
    td(`${formatNumber(b.lower)} – ${formatNumber(b.upper)}`),
    tdNum(b.count),
    tdNum(b.meanPredicted),
    tdNum(b.fractionPositive),
  ]);
  const binsTable = table(['Bin', 'Rows', 'Mean predicted', 'Observed'], rows);
  return section(
    'calibration',
    'Calibration',
    `<p>Expected calibration error: <b>${e(formatNumber(calibration.expectedCalibrationError))}</b></p><div class="charts">${chart}${binsTable}</div>`,
  );
}

/** Cells shaded by the row share (recall of the true class), so imbalance does not hide errors. */
function confusionSection(c: ClassifierSummary | undefined): string {
  if (!c) return section('confusion-matrix', 'Confusion matrix', unavailable('Not available for this model.'));
  const header = ['true \\ predicted', ...c.classNames.map(e)];
  const rows = c.confusionMatrix.map((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    const cells = row.map((count) => {
      const share = total > 0 ? count / total : 0;
      const shade = Math.round(255 - share * 180);
      const color = share > 0.6 ? '#fff' : '#222';
      return `<td style="background:rgb(${shade},${shade},255);color:${color}" title="${e(`${formatNumber(share * 100)}% of row`)}">${count}</td>`;
    });
    return [`<th>${e(c.classNames[t])}</th>`, ...cells];
  });
  const note = c.task === 'binary' ? `<p class="muted">At threshold ${e(formatNumber(c.threshold))}: predicted positive when p ≥ threshold.</p>` : '';
  return section('confusion-matrix', 'Confusion matrix', note + table(header, rows, 'heatmap'));
}

function featureSection(input: ReportInput): string {
  const features = input.featureImportance ?? [];
  if (features.length === 0) return section('feature-importance', 'Feature importance', unavailable('No feature importance was provided.'));
  const max = input.maxFeatures ?? 25;
  const top = [...features].sort((a, b) => Math.abs(b.importance) - Math.abs(a.importance)).slice(0, max);
  const chart = barChart({ title: 'Feature importance', xLabel: 'importance', bars: top.map((f) => ({ label: f.feature, value: f.importance })) });
  const more = features.length > max ? `<p class="muted">${features.length - max} more features not shown.</p>` : '';
  return section('feature-importance', 'Feature importance', chart + more);
}

function slicesSection(gates: GateReport | undefined): string {
  const slices = (gates?.gates ?? []).filter((g): g is SliceGateResult => g.kind === 'slice');
  if (slices.length === 0) return section('slices', 'Slices', unavailable('No slice gates were evaluated.'));
  const body = slices
    .map((s) => {
      const rows = s.details.groups.map((g) => [
        td(g.value ?? '(missing)'),
        tdNum(g.rows),
        tdNum(g.metric),
        td(g.value === s.details.worst ? 'worst' : g.value === s.details.best ? 'best' : ''),
        td(g.note ?? ''),
      ]);
      return (
        `<h3>${e(s.details.column)}: ${e(s.details.metric)} ${verdict(s.passed)}</h3>` +
        `<p>${e(s.summary)}</p>` +
        table(['Group', 'Rows', e(s.details.metric), '', 'Note'], rows)
      );
    })
    .join('');
  return section('slices', 'Slices', body);
}

function lineageSection(lineage: ReportInput['lineage']): string {
  const entries = Object.entries(lineage ?? {});
  if (entries.length === 0) return section('lineage', 'Lineage', unavailable('No lineage was recorded.'));
  return section('lineage', 'Lineage', table(['Key', 'Value'], entries.map(([k, v]) => [td(k), td(v === null ? '' : String(v))])));
}

/** Renders the whole report. Every user-supplied string is escaped; the page loads nothing. */
export function renderReport(input: ReportInput): string {
  const title = `Evaluation report: ${input.model.name} version ${input.model.version}`;
  const overall = input.gates
    ? `<span class="verdict ${input.gates.passed ? 'pass' : 'fail'}">${input.gates.passed ? 'All gates passed' : 'Gates failed'}</span>`
    : '<span class="muted">gates not evaluated</span>';
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(title)}</title><style>${STYLE}</style></head><body>`,
    `<header><h1>${e(input.model.name)} <span class="muted">version ${e(input.model.version)}</span></h1>`,
    `<p>${overall} <span class="muted">generated ${e(input.generatedAt)}</span></p></header>`,
    gatesSection(input.gates),
    metricsSection(input),
    rocSection(input.classifier),
    prSection(input.classifier),
    calibrationSection(input.classifier),
    confusionSection(input.classifier),
    featureSection(input),
    slicesSection(input.gates),
    lineageSection(input.lineage),
    '</body></html>',
  ].join('\n');
}
