import { describe, expect, it } from 'vitest';

import { evaluateGates } from '../../../lib/evaluation/gates.js';
import { renderReport, REPORT_SECTIONS } from '../../../lib/evaluation/report.js';
import type { ReportInput } from '../../../lib/evaluation/report.js';
import { summarizeClassifier, summarizeRegressor } from '../../../lib/evaluation/summary.js';
import { sklearn } from './fixtures/sklearn.js';

const binary = sklearn.binary.find((c) => c.name === 'random-rounded')!;
const evil = '<script>alert("x")</script> & \'friends\'';
const groups = binary.y.map((_, i) => (i % 2 === 0 ? 'web' : '<b>app</b>'));

const gates = evaluateGates(
  {
    metrics: [{ metric: 'roc_auc', min: 0.8 }],
    slices: [{ column: 'channel', metric: 'roc_auc', maxGap: 0.2 }],
    size: { maxBytes: 1000 },
  },
  { task: 'binary', yTrue: binary.y, candidate: binary.p, groups: { channel: groups }, sizeBytes: 5000 },
);

const input: ReportInput = {
  model: { name: `churn ${evil}`, version: '3' },
  generatedAt: '2024-06-01T12:00:00Z',
  classifier: summarizeClassifier(binary.y, binary.p, { classNames: ['stays', `churns ${evil}`] }),
  featureImportance: [
    { feature: 'tenure_months', importance: 0.42 },
    { feature: `weird ${evil}`, importance: -0.05 },
    { feature: 'plan', importance: 0.2 },
  ],
  gates,
  lineage: { dataset: 'ds_abc123', commit: 'deadbeef', note: evil, seed: 7, parent: null },
};

describe('renderReport', () => {
  const html = renderReport(input);

  it('is one HTML document with every section, in order', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    const positions = REPORT_SECTIONS.map((id) => html.indexOf(`<section id="${id}">`));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('draws ROC, PR and calibration as inline SVG and feature importance as bars', () => {
    expect(html.match(/<svg /g)?.length).toBe(4);
    const section = (id: string) => html.slice(html.indexOf(`<section id="${id}">`), html.indexOf('</section>', html.indexOf(`<section id="${id}">`)));
    expect(section('roc-curve')).toMatch(/<svg [^>]*aria-label="ROC curve"[\s\S]*<path d="M/);
    expect(section('pr-curve')).toMatch(/<svg [^>]*aria-label="Precision-recall curve"[\s\S]*<path d="M/);
    expect(section('calibration')).toMatch(/<circle /);
    expect(section('feature-importance').match(/<rect [^>]*class="bar/g)?.length).toBe(3);
    expect(section('feature-importance')).toMatch(/class="bar negative"/);
    expect(section('confusion-matrix')).toMatch(/<table class="heatmap">/);
    expect(section('confusion-matrix')).toContain(`>${binary.labels.confusion[1][1]}</td>`);
  });

  it('shows gate verdicts with their numbers, the slice table and the lineage', () => {
    expect(html).toContain('Gates failed');
    expect(html).toMatch(/<span class="pass">PASS<\/span><\/td><td>metric<\/td><td>roc_auc &gt;= 0.8<\/td>/);
    expect(html).toMatch(/<span class="fail">FAIL<\/span><\/td><td>size<\/td>/);
    expect(html).toContain('sizeBytes: <b>5000</b>');
    expect(html).toContain('<td>web</td>');
    expect(html).toContain('<td>&lt;b&gt;app&lt;/b&gt;</td>');
    expect(html).toContain('<td>ds_abc123</td>');
    expect(html).toContain('<td>seed</td><td>7</td>');
  });

  it('escapes every piece of user text', () => {
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>app</b>');
    const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;friends&#39;';
    expect(html).toContain(`<title>Evaluation report: churn ${escaped} version 3</title>`);
    expect(html).toContain(`<td>${escaped}</td>`); // lineage
    expect(html).toContain(`churns ${escaped}`); // class name in the confusion matrix and legend
    expect(html).toContain(`weird ${escaped}`.slice(0, 20)); // feature label, truncated in the chart
  });

  it('references no external resource and runs no script', () => {
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\s(src|href)=/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\son\w+=/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('keeps a user-supplied URL as inert text', () => {
    const page = renderReport({ ...input, lineage: { repo: 'https://example.com/repo.git?a=1&b=2' } });
    expect(page).toContain('<td>https://example.com/repo.git?a=1&amp;b=2</td>');
    expect(page).not.toMatch(/\s(src|href)=/i);
  });

  it('renders the same bytes for the same input', () => {
    expect(renderReport(input)).toBe(html);
  });

  it('renders a regression or empty report with every section still present', () => {
    const c = sklearn.regression[1];
    const page = renderReport({ model: { name: 'price', version: '1' }, generatedAt: 'now', regressor: summarizeRegressor(c.y, c.p) });
    for (const id of REPORT_SECTIONS) expect(page).toContain(`<section id="${id}">`);
    expect(page).toContain('<td>RMSE</td>');
    expect(page).toContain('Not available for this model.');
    expect(page).toContain('gates not evaluated');
    expect(page).not.toContain('<svg');
  });

  it('draws one curve per class for multiclass models, with a legend', () => {
    const c = sklearn.multiclass[0];
    const page = renderReport({
      model: { name: 'iris', version: '2' },
      generatedAt: 'now',
      classifier: summarizeClassifier(c.y, c.p, { classNames: ['setosa', 'versicolor', 'virginica'] }),
    });
    const roc = page.slice(page.indexOf('<section id="roc-curve">'), page.indexOf('<section id="pr-curve">'));
    expect(roc.match(/<path d="M/g)?.length).toBe(3);
    expect(roc).toContain('<ul class="legend">');
    expect(page).toContain('Available for binary classifiers only.');
  });
});
