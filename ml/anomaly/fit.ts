/**
 * Fits anomaly baselines from healthy rows. Every method standardises the (EWMA-smoothed) readings and
 * scores a quadratic form zᵀMz; calibration runs the real core scorer over the same healthy stream,
 * so the shipped quantiles are exactly those of the statistic the pipeline computes.
 */
import { createAnomalyState, rawAnomalyStatistics } from '../../lambdas/core/anomaly/score.ts';
import type {
  AnomalyBaseline,
  AnomalyMethod,
  AnomalyParams,
  Calibration,
} from '../../lambdas/core/anomaly/types.ts';
import type { AssetModel } from '../../lambdas/core/catalog/index.ts';
import { featurizedSensors } from '../../lambdas/core/catalog/index.ts';
import { invert, symmetricEigen } from './linalg.ts';
import { mean, quantileSorted, sortedFinite } from './stats.ts';

export type Row = Readonly<Record<string, number>>;

export interface FitOptions {
  /** Where the healthy rows come from, recorded in `fittedOn.source`. */
  source: string;
  /**
   * Sensors to score, in order.
   * @default the model's featurized sensors (constant set-points are left out)
   */
  sensors?: readonly string[];
  /**
   * EWMA weight of the newest reading.
   * @default 1 (no smoothing)
   */
  ewmaAlpha?: number;
  /**
   * Stream id per row (same length as the rows): the EWMA restarts where it changes, as a twin starts
   * a fresh state per asset. Rows of one stream must be contiguous and in time order.
   * @default one stream
   */
  segments?: ArrayLike<number>;
  /**
   * Mahalanobis: shrinkage λ of the correlation matrix toward the identity, R' = (1 − λ)R + λI.
   * @default 0.05
   */
  shrinkage?: number;
  /**
   * PCA: fraction of variance the kept components explain (at least 1 and at most p − 1 components).
   * @default 0.9
   */
  varianceKept?: number;
}

export class FitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FitError';
  }
}

const MAD_TO_SD = 1.4826;

/** EWMA-smoothed rows as a dense matrix (NaN where missing), restarting at segment boundaries. */
function smoothRows(
  rows: readonly Row[],
  sensors: readonly string[],
  alpha: number,
  segments?: ArrayLike<number>,
) {
  const p = sensors.length;
  const out: Float64Array[] = [];
  const state = new Float64Array(p).fill(Number.NaN);
  for (let i = 0; i < rows.length; i++) {
    if (segments && i > 0 && segments[i] !== segments[i - 1]) state.fill(Number.NaN);
    const x = new Float64Array(p);
    for (let j = 0; j < p; j++) {
      const v = rows[i]![sensors[j]!];
      if (v === undefined || !Number.isFinite(v)) {
        x[j] = Number.NaN;
        continue;
      }
      const prev = state[j]!;
      state[j] = Number.isNaN(prev) ? v : prev + alpha * (v - prev);
      x[j] = state[j]!;
    }
    out.push(x);
  }
  return out;
}

function column(x: readonly Float64Array[], j: number): number[] {
  const out: number[] = [];
  for (const r of x) if (Number.isFinite(r[j]!)) out.push(r[j]!);
  return out;
}

function spread(values: number[], robust: boolean, center: number): number {
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - center) ** 2, 0) / Math.max(1, values.length - 1));
  const s = robust
    ? MAD_TO_SD * quantileSorted(sortedFinite(values.map((v) => Math.abs(v - center))), 0.5)
    : sd;
  // Quantised sensors can have MAD 0: fall back to the SD, then to a tiny fraction of the level.
  if (s > 0) return s;
  if (sd > 0) return sd;
  return Math.max(1e-9, Math.abs(center) * 1e-6);
}

/** Correlation of standardised rows with every sensor present. */
function correlation(x: readonly Float64Array[], center: number[], scale: number[]): number[][] {
  const p = center.length;
  const c = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  let n = 0;
  const z = new Float64Array(p);
  for (const r of x) {
    let ok = true;
    for (let j = 0; j < p; j++) {
      z[j] = (r[j]! - center[j]!) / scale[j]!;
      if (!Number.isFinite(z[j]!)) ok = false;
    }
    if (!ok) continue;
    n++;
    for (let i = 0; i < p; i++) for (let j = i; j < p; j++) c[i]![j] = c[i]![j]! + z[i]! * z[j]!;
  }
  if (n < 2 * p + 2)
    throw new FitError(`need at least ${2 * p + 2} complete rows for a covariance, got ${n}`);
  const d = c.map((row, i) => Math.sqrt(row[i]! / n));
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      const v = c[i]![j]! / n / (d[i]! * d[j]! || 1);
      c[i]![j] = v;
      c[j]![i] = v;
    }
  }
  return c;
}

const round = (v: number) => Number(v.toPrecision(10));

/**
 * Fits a baseline of `method` for `model` on healthy rows (sensor name → value).
 * @throws FitError when there are too few rows or a sensor has no data.
 */
export function fitBaseline(
  method: AnomalyMethod,
  model: AssetModel,
  healthyRows: readonly Row[],
  options: FitOptions,
): AnomalyBaseline {
  const sensors = [...(options.sensors ?? featurizedSensors(model))];
  const unknown = sensors.filter((s) => !(s in model.sensors));
  if (unknown.length > 0) throw new FitError(`sensors not in model ${model.id}: ${unknown.join(', ')}`);
  const alpha = options.ewmaAlpha ?? 1;
  if (!(alpha > 0 && alpha <= 1)) throw new FitError('ewmaAlpha must be in (0, 1]');
  if (options.segments && options.segments.length !== healthyRows.length) {
    throw new FitError('segments must have one id per row');
  }
  const p = sensors.length;
  const x = smoothRows(healthyRows, sensors, alpha, options.segments);
  const robust = method === 'robust-z' || method === 'robust-z-max';
  const center: number[] = [];
  const scale: number[] = [];
  for (let j = 0; j < p; j++) {
    const col = column(x, j);
    if (col.length < 10) throw new FitError(`sensor ${sensors[j]}: ${col.length} healthy values, need ≥ 10`);
    const c = robust ? quantileSorted(sortedFinite(col), 0.5) : mean(col);
    center.push(c);
    scale.push(spread(col, robust, c));
  }
  let matrix: number[][] | null = null;
  const notes: Record<string, number | string> = {};
  if (method === 'mahalanobis') {
    const lambda = options.shrinkage ?? 0.05;
    const r = correlation(x, center, scale);
    const shrunk = r.map((row, i) => row.map((v, j) => (1 - lambda) * v + (i === j ? lambda : 0)));
    matrix = invert(shrunk);
    notes.shrinkage = lambda;
  } else if (method === 'pca-spe') {
    const kept = options.varianceKept ?? 0.9;
    const { values, vectors } = symmetricEigen(correlation(x, center, scale));
    const totalVar = values.reduce((s, v) => s + v, 0);
    let k = 0;
    let acc = 0;
    while (k < p - 1 && acc / totalVar < kept) acc += values[k++]!;
    k = Math.max(1, Math.min(p - 1, k));
    matrix = Array.from({ length: p }, (_, i) =>
      Array.from({ length: p }, (_, j) => {
        let s = i === j ? 1 : 0;
        for (let c = 0; c < k; c++) s -= vectors[i]![c]! * vectors[j]![c]!;
        return s;
      }),
    );
    notes.components = k;
    notes.varianceExplained = round(values.slice(0, k).reduce((s, v) => s + v, 0) / totalVar);
  }
  if (alpha < 1) notes.ewmaHalfLifeSamples = round(Math.log(0.5) / Math.log(1 - alpha));
  const params: AnomalyParams = {
    center: center.map(round),
    scale: scale.map(round),
    ewmaAlpha: alpha,
    matrix: matrix?.map((row) => row.map(round)) ?? null,
    contribution: method === 'mahalanobis' ? 'rbc' : 'residual',
    combine: method === 'robust-z-max' ? 'max' : 'rms',
    calibration: { q50: 0.5, q99: 1 },
    sensorCalibration: sensors.map(() => ({ q50: 0.5, q99: 1 })),
    notes,
  };
  const baseline: AnomalyBaseline = {
    version: 1,
    method,
    modelId: model.id,
    sensors,
    params,
    fittedOn: { source: options.source, rows: healthyRows.length },
  };
  calibrate(baseline, healthyRows, options.segments);
  return baseline;
}

/** Sets the calibration quantiles from the core scorer's statistics on the healthy stream. */
function calibrate(b: AnomalyBaseline, rows: readonly Row[], segments?: ArrayLike<number>): void {
  const p = b.sensors.length;
  const stats = new Float64Array(rows.length);
  const per = Array.from({ length: p }, () => new Float64Array(rows.length));
  const buf = new Float64Array(p);
  // A fresh object: the core caches compiled baselines by identity, and the quantiles change below.
  const probe: AnomalyBaseline = structuredClone(b);
  let state = createAnomalyState(probe);
  for (let i = 0; i < rows.length; i++) {
    if (segments && i > 0 && segments[i] !== segments[i - 1]) state = createAnomalyState(probe);
    stats[i] = rawAnomalyStatistics(probe, state, rows[i]!, buf);
    for (let j = 0; j < p; j++) per[j]![i] = buf[j]!;
  }
  const cal = (v: Float64Array): Calibration => {
    const s = sortedFinite(v);
    const q99 = quantileSorted(s, 0.99);
    const q50 = quantileSorted(s, 0.5);
    const safe99 = q99 > 0 ? q99 : 1e-9;
    return { q50: round(Math.min(q50, safe99)), q99: round(safe99) };
  };
  b.params.calibration = cal(stats);
  b.params.sensorCalibration = per.map(cal);
}
