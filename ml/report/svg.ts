/**
 * Hand-written SVG plots for evaluation reports: scatter (with y = x), curves (PR/ROC, several series)
 * and grouped bars. Pure string builders: no DOM, no dependencies. Every plot is a standalone SVG
 * document (xmlns set) so it renders as a file, as an `<img>`, and inline in HTML.
 */

/** A point in data coordinates. */
export interface Point {
  readonly x: number;
  readonly y: number;
}

/** Plot input that cannot be drawn (non-finite values, mismatched lengths). */
export class ReportInputError extends Error {
  override name = 'ReportInputError';
}

/** Options shared by every plot. */
export interface PlotFrame {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** @default 640 */
  readonly width?: number;
  /** @default 420 */
  readonly height?: number;
}

export interface ScatterSeries {
  readonly name: string;
  readonly points: readonly Point[];
}

export interface ScatterOptions extends PlotFrame {
  readonly series: readonly ScatterSeries[];
  /** Draw the y = x line (predicted vs true). @default true */
  readonly identity?: boolean;
  /** Force both axes to one range so y = x is the diagonal. @default true when identity is on */
  readonly squareDomain?: boolean;
}

export interface CurveSeries {
  readonly name: string;
  /** Drawn in the given order (a PR or ROC curve is a path, not a function). */
  readonly points: readonly Point[];
}

export interface CurveOptions extends PlotFrame {
  readonly series: readonly CurveSeries[];
  /** Dashed reference line from (0,0) to (1,1), e.g. chance on a ROC plot. @default false */
  readonly diagonal?: boolean;
  /** Dashed horizontal reference line at this y, e.g. prevalence on a PR plot. @default none */
  readonly baselineY?: number;
  /** Axis ranges; the data extends them when it falls outside. @default [0, 1] both */
  readonly xDomain?: readonly [number, number];
  readonly yDomain?: readonly [number, number];
}

export interface BarSeries {
  readonly name: string;
  /** One value per category. */
  readonly values: readonly number[];
}

export interface BarsOptions extends PlotFrame {
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
  /** Top of the value axis; the data extends it. @default 1 (precision/recall scale) */
  readonly yMax?: number;
}

/** Okabe–Ito palette: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

const MARGIN = { left: 64, right: 20, top: 40, bottom: 56 };

/** Escapes text for XML/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function num(v: number): string {
  // Two decimals keep the files small; sub-pixel precision is invisible.
  return (Math.round(v * 100) / 100).toString();
}

function checkPoints(points: readonly Point[], what: string): void {
  points.forEach((p, i) => {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      throw new ReportInputError(`${what}: point ${i} is (${p.x}, ${p.y}); every coordinate must be finite`);
    }
  });
}

/** 1, 2 or 5 × 10^k steps giving about `count` ticks over [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
  // A subnormal span underflows the step to 0 (or NaN): one tick is all there is to draw.
  if (!(step > 0) || !Number.isFinite(step)) return [lo];
  const out: number[] = [];
  const first = Math.ceil(lo / step - 1e-9) * step;
  // Multiply instead of accumulating, and bound the count: when the span is tiny next to the values
  // (1e6 … 1e6 + 1e-10), `v + step === v` and an accumulating loop would never end.
  for (let i = 0; i <= 4 * count + 2; i++) {
    const v = first + i * step;
    if (v > hi + step * 1e-9) break;
    const tick = Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12));
    if (out.length === 0 || tick !== out[out.length - 1]) out.push(tick);
  }
  return out.length > 0 ? out : [lo];
}

function extent(values: readonly number[], pad: boolean): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === hi) return [lo - 1, hi + 1];
  if (!pad) return [lo, hi];
  const ticks = niceTicks(lo, hi);
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : 1;
  return [Math.floor(lo / step) * step, Math.ceil(hi / step) * step];
}

interface Frame {
  readonly w: number;
  readonly h: number;
  /** y of the plot box's top edge. */
  readonly top: number;
  readonly sx: (v: number) => number;
  readonly sy: (v: number) => number;
  readonly parts: string[];
}

function frame(
  o: PlotFrame,
  xd: readonly [number, number],
  yd: readonly [number, number],
  xTicks: boolean,
  withLegend: boolean,
): Frame {
  const w = o.width ?? 640;
  const h = o.height ?? 420;
  // The legend gets its own band above the plot box so it never hides data.
  const top = MARGIN.top + (withLegend ? 20 : 0);
  const pw = w - MARGIN.left - MARGIN.right;
  const ph = h - top - MARGIN.bottom;
  if (pw <= 0 || ph <= 0) throw new ReportInputError(`plot size ${w} × ${h} leaves no room for the plot area`);
  const sx = (v: number) => MARGIN.left + ((v - xd[0]) / (xd[1] - xd[0])) * pw;
  const sy = (v: number) => top + ph - ((v - yd[0]) / (yd[1] - yd[0])) * ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${w}" height="${h}" fill="#ffffff"/>`,
  ];
  if (o.title) {
    parts.push(`<text x="${num(w / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(o.title)}</text>`);
  }
  const axisY = top + ph;
  for (const t of niceTicks(yd[0], yd[1])) {
    const y = sy(t);
    parts.push(
      `<line x1="${MARGIN.left}" y1="${num(y)}" x2="${MARGIN.left + pw}" y2="${num(y)}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 6}" y="${num(y + 4)}" text-anchor="end" fill="#444">${escapeXml(tickLabel(t))}</text>`,
    );
  }
  if (xTicks) {
    for (const t of niceTicks(xd[0], xd[1])) {
      const x = sx(t);
      parts.push(
        `<line x1="${num(x)}" y1="${top}" x2="${num(x)}" y2="${axisY}" stroke="#f0f0f0"/>`,
        `<text x="${num(x)}" y="${axisY + 16}" text-anchor="middle" fill="#444">${escapeXml(tickLabel(t))}</text>`,
      );
    }
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
  );
  if (o.xLabel) {
    parts.push(`<text x="${num(MARGIN.left + pw / 2)}" y="${h - 12}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  }
  if (o.yLabel) {
    const cy = top + ph / 2;
    parts.push(`<text x="16" y="${num(cy)}" text-anchor="middle" transform="rotate(-90 16 ${num(cy)})">${escapeXml(o.yLabel)}</text>`);
  }
  return { w, h, top, sx, sy, parts };
}

function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 10_000 || a < 1e-3) return v.toExponential(1);
  return Number(v.toPrecision(6)).toString();
}

function legend(f: Frame, names: readonly string[], marker: 'dot' | 'line' | 'box'): void {
  if (names.length < 2) return;
  let x = MARGIN.left;
  const y = f.top - 8;
  names.forEach((name, i) => {
    const c = PALETTE[i % PALETTE.length]!;
    if (marker === 'dot') f.parts.push(`<circle cx="${num(x + 5)}" cy="${y - 4}" r="4" fill="${c}"/>`);
    else if (marker === 'line') f.parts.push(`<line x1="${num(x)}" y1="${y - 4}" x2="${num(x + 14)}" y2="${y - 4}" stroke="${c}" stroke-width="2.5"/>`);
    else f.parts.push(`<rect x="${num(x)}" y="${y - 10}" width="12" height="12" fill="${c}"/>`);
    f.parts.push(`<text x="${num(x + 18)}" y="${y}" fill="#222">${escapeXml(name)}</text>`);
    x += 30 + name.length * 7;
  });
}

function emptyState(f: Frame, message: string): string {
  f.parts.push(
    `<text x="${num(f.w / 2)}" y="${num(f.h / 2)}" text-anchor="middle" fill="#888" font-size="14">${escapeXml(message)}</text>`,
    '</svg>',
  );
  return f.parts.join('\n');
}

/**
 * Scatter of one or more series, e.g. predicted vs true RUL, with the y = x line.
 * Empty input gives an empty-state plot; a non-finite coordinate throws {@link ReportInputError}.
 */
export function svgScatter(o: ScatterOptions): string {
  o.series.forEach((s) => checkPoints(s.points, `series "${s.name}"`));
  const all = o.series.flatMap((s) => s.points);
  const identity = o.identity ?? true;
  if (all.length === 0) return emptyState(frame(o, [0, 1], [0, 1], true, false), 'no data');
  let xd = extent(all.map((p) => p.x), true);
  let yd = extent(all.map((p) => p.y), true);
  if (o.squareDomain ?? identity) {
    xd = yd = [Math.min(xd[0], yd[0]), Math.max(xd[1], yd[1])];
  }
  const f = frame(o, xd, yd, true, o.series.length > 1);
  if (identity) {
    // Clip y = x to the plot box: it runs between the larger of the two lower bounds and the smaller upper.
    const lo = Math.max(xd[0], yd[0]);
    const hi = Math.min(xd[1], yd[1]);
    if (hi > lo) {
      f.parts.push(
        `<line x1="${num(f.sx(lo))}" y1="${num(f.sy(lo))}" x2="${num(f.sx(hi))}" y2="${num(f.sy(hi))}" stroke="#555" stroke-dasharray="5 4"/>`,
      );
    }
  }
  o.series.forEach((s, i) => {
    const c = PALETTE[i % PALETTE.length]!;
    f.parts.push(`<g fill="${c}" fill-opacity="0.7">`);
    for (const p of s.points) f.parts.push(`<circle cx="${num(f.sx(p.x))}" cy="${num(f.sy(p.y))}" r="3"/>`);
    f.parts.push('</g>');
  });
  legend(f, o.series.map((s) => s.name), 'dot');
  f.parts.push('</svg>');
  return f.parts.join('\n');
}

/**
 * Line plot of several curves (PR, ROC), domain [0, 1]² unless the data or options say otherwise.
 * Series without points are skipped; with no points at all the plot shows an empty state.
 */
export function svgCurve(o: CurveOptions): string {
  o.series.forEach((s) => checkPoints(s.points, `series "${s.name}"`));
  const all = o.series.flatMap((s) => s.points);
  // Loops, not Math.min(...spread): curves can have more points than the engine allows as arguments.
  const widen = (d: readonly [number, number], vs: readonly number[]): [number, number] => {
    let lo = d[0];
    let hi = d[1];
    for (const v of vs) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return [lo, hi];
  };
  if (o.baselineY !== undefined && !Number.isFinite(o.baselineY)) {
    throw new ReportInputError(`baselineY must be finite, got ${o.baselineY}`);
  }
  const xd = widen(o.xDomain ?? [0, 1], all.map((p) => p.x));
  const yd = widen(o.yDomain ?? [0, 1], [...all.map((p) => p.y), ...(o.baselineY !== undefined ? [o.baselineY] : [])]);
  const f = frame(o, xd, yd, true, o.series.length > 1);
  if (all.length === 0) return emptyState(f, 'no data');
  if (o.diagonal) {
    const lo = Math.max(xd[0], yd[0], 0);
    const hi = Math.min(xd[1], yd[1], 1);
    f.parts.push(
      `<line x1="${num(f.sx(lo))}" y1="${num(f.sy(lo))}" x2="${num(f.sx(hi))}" y2="${num(f.sy(hi))}" stroke="#999" stroke-dasharray="5 4"/>`,
    );
  }
  if (o.baselineY !== undefined) {
    const y = num(f.sy(o.baselineY));
    f.parts.push(`<line x1="${num(f.sx(xd[0]))}" y1="${y}" x2="${num(f.sx(xd[1]))}" y2="${y}" stroke="#999" stroke-dasharray="5 4"/>`);
  }
  o.series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const c = PALETTE[i % PALETTE.length]!;
    const pts = s.points.map((p) => `${num(f.sx(p.x))},${num(f.sy(p.y))}`).join(' ');
    f.parts.push(`<polyline points="${pts}" fill="none" stroke="${c}" stroke-width="2" stroke-linejoin="round"/>`);
  });
  legend(f, o.series.map((s) => s.name), 'line');
  f.parts.push('</svg>');
  return f.parts.join('\n');
}

/**
 * Grouped vertical bars: one group per category, one bar per series (e.g. precision and recall per
 * component). Values must be finite and non-negative; no categories gives an empty-state plot.
 */
export function svgBars(o: BarsOptions): string {
  o.series.forEach((s) => {
    if (s.values.length !== o.categories.length) {
      throw new ReportInputError(`series "${s.name}" has ${s.values.length} values for ${o.categories.length} categories`);
    }
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v) || v < 0) {
        throw new ReportInputError(`series "${s.name}", category "${o.categories[i]}": value ${v} must be finite and ≥ 0`);
      }
    });
  });
  let top = o.yMax ?? 1;
  for (const s of o.series) for (const v of s.values) if (v > top) top = v;
  const f = frame(o, [0, 1], [0, top], false, o.series.length > 1);
  if (o.categories.length === 0 || o.series.length === 0) return emptyState(f, 'no data');
  const pw = f.w - MARGIN.left - MARGIN.right;
  const group = pw / o.categories.length;
  const bar = (group * 0.8) / o.series.length;
  const base = f.sy(0);
  o.categories.forEach((cat, ci) => {
    const gx = MARGIN.left + ci * group + group * 0.1;
    o.series.forEach((s, si) => {
      const v = s.values[ci]!;
      const y = f.sy(v);
      const x = gx + si * bar;
      f.parts.push(
        `<rect x="${num(x)}" y="${num(y)}" width="${num(Math.max(bar - 2, 1))}" height="${num(base - y)}" fill="${PALETTE[si % PALETTE.length]}"><title>${escapeXml(`${s.name} ${cat}: ${v}`)}</title></rect>`,
      );
    });
    f.parts.push(
      `<text x="${num(gx + group * 0.4)}" y="${num(base + 16)}" text-anchor="middle" fill="#222">${escapeXml(cat)}</text>`,
    );
  });
  legend(f, o.series.map((s) => s.name), 'box');
  f.parts.push('</svg>');
  return f.parts.join('\n');
}
