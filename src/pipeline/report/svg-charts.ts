// Small, dependency-free SVG charts for the self-contained report: point estimates with their
// intervals, and lines over time. Every label is escaped; nothing is fetched.
import { escapeHtml } from '../../core/html.js';

const WIDTH = 640;
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];
/** The i-th colour of the palette (it repeats after seven). */
export const colour = (i: number): string => COLOURS[i % COLOURS.length] ?? '#333';
const fmt = (x: number) =>
  Math.abs(x) >= 1000 || (Math.abs(x) < 0.01 && x !== 0) ? x.toPrecision(3) : x.toFixed(3);

/** A finite value, or the nearest edge of the plotted range for ±∞ and NaN. */
const clamp = (x: number, lo: number, hi: number) =>
  Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : x > 0 ? hi : lo;

export interface IntervalRow {
  label: string;
  colour?: string;
  estimate: number;
  lower: number;
  upper: number;
}

/**
 * Rows of point estimates with interval whiskers on one horizontal axis; `reference` draws a
 * vertical line (0 for lifts).
 */
export const intervalChart = (
  title: string,
  rows: readonly IntervalRow[],
  options: { reference?: number; format?: (x: number) => string } = {},
): string => {
  const f = options.format ?? fmt;
  const rowHeight = 28;
  const left = 200;
  const right = WIDTH - 20;
  const height = 40 + rows.length * rowHeight;
  const finite = rows.flatMap((r) => [r.lower, r.upper, r.estimate]).filter(Number.isFinite);
  if (options.reference !== undefined) finite.push(options.reference);
  let lo = Math.min(...finite, 0);
  let hi = Math.max(...finite, 0);
  if (lo === hi) hi = lo + 1;
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const x = (v: number) => left + ((clamp(v, lo, hi) - lo) / (hi - lo)) * (right - left);
  const parts = [
    `<text x="4" y="16" class="title">${escapeHtml(title)}</text>`,
    `<text x="${String(left)}" y="${String(height - 4)}" class="axis">${escapeHtml(f(lo))}</text>`,
    `<text x="${String(right)}" y="${String(height - 4)}" class="axis" text-anchor="end">${escapeHtml(f(hi))}</text>`,
  ];
  if (options.reference !== undefined)
    parts.push(
      `<line x1="${x(options.reference).toFixed(1)}" x2="${x(options.reference).toFixed(1)}" y1="24" y2="${String(height - 16)}" class="ref"/>`,
    );
  rows.forEach((r, i) => {
    const y = 36 + i * rowHeight;
    const c = r.colour ?? colour(i);
    parts.push(
      `<text x="4" y="${String(y + 4)}" class="label">${escapeHtml(r.label)}</text>`,
      `<line x1="${x(r.lower).toFixed(1)}" x2="${x(r.upper).toFixed(1)}" y1="${String(y)}" y2="${String(y)}" stroke="${c}" stroke-width="2"/>`,
      `<circle cx="${x(r.estimate).toFixed(1)}" cy="${String(y)}" r="4" fill="${c}"><title>${escapeHtml(`${r.label}: ${f(r.estimate)} [${f(r.lower)}, ${f(r.upper)}]`)}</title></circle>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${String(WIDTH)}" height="${String(height)}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg>`;
};

export interface Series {
  name: string;
  /** A colour of its own (an arm keeps one colour across charts); by position otherwise. */
  colour?: string;
  points: readonly { x: number; y: number }[];
  /** An interval band around the line, when known. */
  band?: readonly { x: number; lower: number; upper: number }[];
}

/** The y range of the (transformed) values, padded by 5 %; on a log axis it ends at 10⁰. */
const dataRange = (ys: readonly number[], logY: boolean): { y0: number; y1: number } => {
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (y0 === y1) y1 = y0 + 1;
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  // p-values end at 1 (10⁰).
  y1 = logY ? Math.min(y1 + pad, 0) : y1 + pad;
  return { y0, y1 };
};

/**
 * Lines over time (x in epoch ms), optionally on a log₁₀ y axis (p-values). The y axis spans the
 * data unless `range` fixes it (shares: 0 to 1, so 49 % against 51 % look close, not bottom
 * against top); values beyond a fixed range are drawn at its edge. `format` writes the axis
 * labels and each point's tooltip.
 */
export const lineChart = (
  title: string,
  series: readonly Series[],
  options: {
    logY?: boolean;
    reference?: number;
    format?: (y: number) => string;
    range?: { min: number; max: number };
  } = {},
): string => {
  const height = 220;
  const left = 60;
  const right = WIDTH - 120;
  const top = 28;
  const bottom = height - 24;
  const ty = (v: number) => (options.logY === true ? Math.log10(Math.max(v, 1e-300)) : v);
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => [
    ...s.points.map((p) => ty(p.y)),
    ...(s.band ?? []).flatMap((b) => [ty(b.lower), ty(b.upper)]),
  ]);
  if (options.reference !== undefined) ys.push(ty(options.reference));
  const finite = ys.filter(Number.isFinite);
  if (xs.length === 0 || finite.length === 0)
    return `<p class="empty">${escapeHtml(title)}: no data yet</p>`;
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs) === x0 ? x0 + 1 : Math.max(...xs);
  const { y0, y1 } =
    options.range === undefined
      ? dataRange(finite, options.logY === true)
      : { y0: ty(options.range.min), y1: ty(options.range.max) };
  const px = (v: number) => left + ((v - x0) / (x1 - x0)) * (right - left);
  const py = (v: number) => bottom - ((clamp(ty(v), y0, y1) - y0) / (y1 - y0)) * (bottom - top);
  const f = options.format ?? fmt;
  const label = (v: number) => (options.logY === true ? (10 ** v).toPrecision(2) : f(v));
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const parts = [
    `<text x="4" y="16" class="title">${escapeHtml(title)}</text>`,
    `<text x="4" y="${String(top + 8)}" class="axis">${escapeHtml(label(y1))}</text>`,
    `<text x="4" y="${String(bottom)}" class="axis">${escapeHtml(label(y0))}</text>`,
    `<text x="${String(left)}" y="${String(height - 6)}" class="axis">${day(x0)}</text>`,
    `<text x="${String(right)}" y="${String(height - 6)}" class="axis" text-anchor="end">${day(x1)}</text>`,
  ];
  if (options.reference !== undefined)
    parts.push(
      `<line x1="${String(left)}" x2="${String(right)}" y1="${py(options.reference).toFixed(1)}" y2="${py(options.reference).toFixed(1)}" class="ref"/>`,
    );
  series.forEach((s, i) => {
    const c = s.colour ?? colour(i);
    if (s.band !== undefined && s.band.length > 0) {
      const upper = s.band.map((b) => `${px(b.x).toFixed(1)},${py(b.upper).toFixed(1)}`);
      const lower = [...s.band]
        .reverse()
        .map((b) => `${px(b.x).toFixed(1)},${py(b.lower).toFixed(1)}`);
      parts.push(
        `<polygon points="${[...upper, ...lower].join(' ')}" fill="${c}" opacity="0.15"/>`,
      );
    }
    parts.push(
      `<polyline points="${s.points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}" fill="none" stroke="${c}" stroke-width="2"/>`,
      ...s.points.map(
        (p) =>
          `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="2.5" fill="${c}"><title>${escapeHtml(`${s.name} ${day(p.x)}: ${f(p.y)}`)}</title></circle>`,
      ),
      `<text x="${String(right + 8)}" y="${String(top + 14 * (i + 1))}" class="legend" style="fill:${c}">${escapeHtml(s.name)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${String(WIDTH)}" height="${String(height)}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg>`;
};
