// Small inline-SVG chart helpers (line chart, horizontal bar chart) for the self-contained report.

import { formatNumber } from './format.js';
import { escapeHtml } from './html.js';

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export interface Series {
  readonly label: string;
  readonly points: readonly (readonly [number, number])[];
  /** Draw a dot at each point (sparse data such as calibration bins). */
  readonly markers?: boolean;
  /**
   * Hold each y until the next x (matplotlib's steps-post), for step functions such as the
   * PR curve, where interpolating between points would overstate precision.
   */
  readonly steps?: boolean;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Dashed y = x reference line (chance for ROC, perfect calibration). */
  readonly diagonal?: boolean;
  readonly width?: number;
  readonly height?: number;
  /** Curves with more points are thinned to this many for a light page; default 800. */
  readonly maxPoints?: number;
}

const MARGIN = { top: 28, right: 16, bottom: 44, left: 52 };

/** Keeps evenly spaced points plus the last one, so the curve keeps its shape and ends. */
function thin(points: readonly (readonly [number, number])[], max: number): (readonly [number, number])[] {
  if (points.length <= max) return [...points];
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => points[Math.round(i * step)]);
}

const num = (v: number): string => String(Math.round(v * 100) / 100);

/** Line chart on the unit square [0, 1] x [0, 1], which is where every curve of the report lives. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 420;
  const height = options.height ?? 340;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const x = (v: number): string => num(MARGIN.left + v * plotW);
  const y = (v: number): string => num(MARGIN.top + (1 - v) * plotH);

  const parts: string[] = [];
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" class="plot-area"/>`);
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${x(t)}" y1="${y(0)}" x2="${x(t)}" y2="${y(1)}" class="grid"/>`);
    parts.push(`<line x1="${x(0)}" y1="${y(t)}" x2="${x(1)}" y2="${y(t)}" class="grid"/>`);
    parts.push(`<text x="${x(t)}" y="${num(MARGIN.top + plotH + 16)}" text-anchor="middle">${t}</text>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${num(Number(y(t)) + 4)}" text-anchor="end">${t}</text>`);
  }
  if (options.diagonal) {
    parts.push(`<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" class="diagonal"/>`);
  }
  options.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const points = thin(s.points, options.maxPoints ?? 800);
    const d = points
      .map(([px, py], j) => {
        if (j === 0) return `M${x(px)} ${y(py)}`;
        const corner = s.steps ? `L${x(px)} ${y(points[j - 1][1])} ` : '';
        return `${corner}L${x(px)} ${y(py)}`;
      })
      .join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"><title>${escapeHtml(s.label)}</title></path>`);
    if (s.markers) {
      for (const [px, py] of points) {
        parts.push(
          `<circle cx="${x(px)}" cy="${y(py)}" r="3.5" fill="${color}"><title>${escapeHtml(
            `${s.label}: (${formatNumber(px)}, ${formatNumber(py)})`,
          )}</title></circle>`,
        );
      }
    }
  });
  parts.push(`<text x="${num(MARGIN.left + plotW / 2)}" y="${height - 8}" text-anchor="middle" class="axis-label">${escapeHtml(options.xLabel)}</text>`);
  parts.push(
    `<text x="14" y="${num(MARGIN.top + plotH / 2)}" text-anchor="middle" class="axis-label" transform="rotate(-90 14 ${num(MARGIN.top + plotH / 2)})">${escapeHtml(options.yLabel)}</text>`,
  );
  parts.push(`<text x="${num(width / 2)}" y="18" text-anchor="middle" class="chart-title">${escapeHtml(options.title)}</text>`);
  return svg(width, height, options.title, parts) + legend(options.series.map((s) => s.label));
}

export interface Bar {
  readonly label: string;
  readonly value: number;
}

/** Horizontal bars, one row per label, with a zero line so negative values (e.g. permutation importance) read right. */
export function barChart(options: { readonly title: string; readonly xLabel: string; readonly bars: readonly Bar[]; readonly width?: number }): string {
  const width = options.width ?? 640;
  const rowH = 22;
  const labelW = 200;
  const top = 28;
  const height = top + options.bars.length * rowH + 40;
  const plotW = width - labelW - 70;
  const values = options.bars.map((b) => b.value).filter(Number.isFinite);
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  const span = hi - lo || 1;
  const x = (v: number): number => labelW + ((v - lo) / span) * plotW;

  const parts: string[] = [];
  options.bars.forEach((b, i) => {
    const rowY = top + i * rowH;
    const value = Number.isFinite(b.value) ? b.value : 0;
    const x0 = Math.min(x(0), x(value));
    const w = Math.abs(x(value) - x(0));
    const label = b.label.length > 30 ? `${b.label.slice(0, 29)}…` : b.label;
    parts.push(`<text x="${labelW - 6}" y="${rowY + 15}" text-anchor="end">${escapeHtml(label)}<title>${escapeHtml(b.label)}</title></text>`);
    parts.push(
      `<rect x="${num(x0)}" y="${rowY + 3}" width="${num(w)}" height="${rowH - 6}" class="${value < 0 ? 'bar negative' : 'bar'}"><title>${escapeHtml(
        `${b.label}: ${formatNumber(b.value)}`,
      )}</title></rect>`,
    );
    parts.push(`<text x="${num(Math.max(x(0), x(value)) + 4)}" y="${rowY + 15}">${escapeHtml(formatNumber(b.value))}</text>`);
  });
  const axisY = top + options.bars.length * rowH;
  parts.push(`<line x1="${num(x(0))}" y1="${top}" x2="${num(x(0))}" y2="${axisY}" class="zero"/>`);
  parts.push(`<text x="${num(labelW + plotW / 2)}" y="${axisY + 28}" text-anchor="middle" class="axis-label">${escapeHtml(options.xLabel)}</text>`);
  parts.push(`<text x="${num(width / 2)}" y="18" text-anchor="middle" class="chart-title">${escapeHtml(options.title)}</text>`);
  return svg(width, height, options.title, parts);
}

// No xmlns attribute: inline SVG in HTML does not need one, and the page stays free of URLs.
function svg(width: number, height: number, title: string, parts: readonly string[]): string {
  return (
    `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">` +
    `<title>${escapeHtml(title)}</title>${parts.join('')}</svg>`
  );
}

function legend(labels: readonly string[]): string {
  if (labels.length < 2) return '';
  const items = labels
    .map((label, i) => `<li><span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>${escapeHtml(label)}</li>`)
    .join('');
  return `<ul class="legend">${items}</ul>`;
}
