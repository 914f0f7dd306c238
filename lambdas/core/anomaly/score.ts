/**
 * Streaming anomaly scorer. Every method is the quadratic form d² = zᵀMz of standardised, optionally
 * EWMA-smoothed readings z (M = I for robust z), so one allocation-free kernel serves all of them.
 */
import type { AnomalyBaseline, AnomalyResult, AnomalyState, Calibration } from './types.ts';
import { ANOMALY_METHODS } from './types.ts';

export class InvalidAnomalyBaselineError extends Error {
  constructor(
    readonly modelId: string,
    readonly reason: string,
  ) {
    super(`invalid anomaly baseline for "${modelId}": ${reason}`);
    this.name = 'InvalidAnomalyBaselineError';
  }
}

export class AnomalyStateMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`anomaly state belongs to "${actual}", baseline is "${expected}"`);
    this.name = 'AnomalyStateMismatchError';
  }
}

/** Healthy median maps to this score, healthy 99th percentile to 0.5. */
const MEDIAN_SCORE = 0.1;
const LN_MEDIAN_ODDS = Math.log((1 - MEDIAN_SCORE) / MEDIAN_SCORE);
/** Keeps the calibration curve from degenerating into a step when q99 ≈ q50. */
const MAX_SHAPE = 12;
/** Gauss–Seidel sweeps to fill missing sensors; one sweep is exact for a single missing sensor. */
const MAX_SWEEPS = 50;

interface Curve {
  q99: number;
  shape: number;
}

/** Baseline unpacked into typed arrays once; scoring reuses its scratch buffers. */
interface Compiled {
  p: number;
  key: string;
  center: Float64Array;
  invScale: Float64Array;
  alpha: number;
  /** Row-major p×p, or null for the identity. */
  m: Float64Array | null;
  /** Per-sensor divisor of g_j² for contributions and sensor statistics. */
  w: Float64Array;
  max: boolean;
  curve: Curve;
  sensorCurves: Curve[];
  z: Float64Array;
  g: Float64Array;
  present: Uint8Array;
  /** Sum of the contribution parts of the last sample (set by `combine`). */
  total: number;
}

const compiledCache = new WeakMap<AnomalyBaseline, Compiled>();

/**
 * Log-logistic curve through two healthy quantiles: score(s) = 1 / (1 + (q99/s)^k), with k chosen so
 * the healthy median scores 0.1. Monotone, 0 at s = 0, 0.5 at the healthy q99, → 1 for large s.
 */
function curveOf(c: Calibration, modelId: string, what: string): Curve {
  if (!(c.q99 > 0) || !(c.q50 >= 0) || !Number.isFinite(c.q99) || !Number.isFinite(c.q50)) {
    throw new InvalidAnomalyBaselineError(modelId, `${what}: calibration needs 0 ≤ q50 and 0 < q99 (finite)`);
  }
  const ratio = c.q99 / Math.max(c.q50, c.q99 * 1e-6);
  const shape = ratio > 1 ? Math.min(MAX_SHAPE, LN_MEDIAN_ODDS / Math.log(ratio)) : MAX_SHAPE;
  return { q99: c.q99, shape };
}

/** Maps a non-negative statistic to [0, 1] with a calibration curve. */
export function calibratedScore(stat: number, c: Calibration): number {
  return applyCurve(stat, curveOf(c, '?', 'calibration'));
}

function applyCurve(stat: number, c: Curve): number {
  if (!(stat > 0)) return 0;
  return 1 / (1 + (c.q99 / stat) ** c.shape);
}

function finiteArray(a: unknown, p: number): a is number[] {
  return Array.isArray(a) && a.length === p && a.every((v) => typeof v === 'number' && Number.isFinite(v));
}

function compile(b: AnomalyBaseline): Compiled {
  const bad = (reason: string) => new InvalidAnomalyBaselineError(String(b?.modelId), reason);
  if (b?.version !== 1) throw bad('version must be 1');
  if (!ANOMALY_METHODS.includes(b.method)) throw bad(`unknown method "${String(b.method)}"`);
  const p = Array.isArray(b.sensors) ? b.sensors.length : 0;
  if (p === 0) throw bad('no sensors');
  const pr = b.params;
  if (!finiteArray(pr?.center, p) || !finiteArray(pr.scale, p))
    throw bad('center/scale need one number per sensor');
  if (pr.scale.some((s) => !(s > 0))) throw bad('scale must be positive');
  if (!(pr.ewmaAlpha > 0 && pr.ewmaAlpha <= 1)) throw bad('ewmaAlpha must be in (0, 1]');
  let m: Float64Array | null = null;
  if (pr.matrix !== null) {
    if (!Array.isArray(pr.matrix) || pr.matrix.length !== p || !pr.matrix.every((r) => finiteArray(r, p))) {
      throw bad('matrix must be p×p finite numbers or null');
    }
    m = Float64Array.from(pr.matrix.flat());
  }
  const w = new Float64Array(p).fill(1);
  if (pr.contribution === 'rbc' && m) {
    for (let j = 0; j < p; j++) {
      const d = m[j * p + j]!;
      if (!(d > 0)) throw bad('rbc contributions need a positive matrix diagonal');
      w[j] = d;
    }
  } else if (pr.contribution !== 'rbc' && pr.contribution !== 'residual') {
    throw bad('contribution must be "rbc" or "residual"');
  }
  if (pr.combine !== 'rms' && pr.combine !== 'max') throw bad('combine must be "rms" or "max"');
  if (!Array.isArray(pr.sensorCalibration) || pr.sensorCalibration.length !== p) {
    throw bad('sensorCalibration needs one entry per sensor');
  }
  return {
    p,
    key: `${b.method}:${b.modelId}`,
    center: Float64Array.from(pr.center),
    invScale: Float64Array.from(pr.scale, (s) => 1 / s),
    alpha: pr.ewmaAlpha,
    m,
    w,
    max: pr.combine === 'max',
    curve: curveOf(pr.calibration, b.modelId, 'calibration'),
    sensorCurves: pr.sensorCalibration.map((c, j) => curveOf(c, b.modelId, `sensor ${b.sensors[j]}`)),
    z: new Float64Array(p),
    g: new Float64Array(p),
    present: new Uint8Array(p),
    total: 0,
  };
}

function compiled(b: AnomalyBaseline): Compiled {
  let c = compiledCache.get(b);
  if (!c) {
    c = compile(b);
    compiledCache.set(b, c);
  }
  return c;
}

/**
 * Checks a baseline once (it is then cached by identity).
 * @throws InvalidAnomalyBaselineError with the reason.
 */
export function validateAnomalyBaseline(b: AnomalyBaseline): void {
  compiled(b);
}

/** A fresh streaming state: no sensor seen yet. */
export function createAnomalyState(b: AnomalyBaseline): AnomalyState {
  const c = compiled(b);
  return { v: 1, key: c.key, ewma: new Array<number | null>(c.p).fill(null) };
}

/**
 * Fills missing coordinates of z with the values that minimise zᵀMz given the present ones
 * (Gauss–Seidel). For Mahalanobis this makes d² the marginal distance of the present sensors; for PCA,
 * the smallest SPE consistent with them. In both cases g = Mz is then 0 on missing sensors.
 */
function fillMissing(c: Compiled, m: Float64Array): void {
  const { p, z, present } = c;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let change = 0;
    for (let j = 0; j < p; j++) {
      if (present[j]) continue;
      const row = j * p;
      const d = m[row + j]!;
      // A sensor the form cannot see (PCA: fully explained by the kept components) stays at 0.
      if (!(d > 1e-12)) continue;
      let s = 0;
      for (let k = 0; k < p; k++) if (k !== j) s += m[row + k]! * z[k]!;
      const next = -s / d;
      const delta = Math.abs(next - z[j]!);
      if (delta > change) change = delta;
      z[j] = next;
    }
    if (change < 1e-9) break;
  }
}

/**
 * Updates the EWMA and computes g = Mz into the scratch buffers; returns the number of present sensors.
 * @throws AnomalyStateMismatchError when `state` was created for another baseline.
 */
function evaluate(
  b: AnomalyBaseline,
  c: Compiled,
  state: AnomalyState,
  readings: Readonly<Record<string, number>>,
) {
  if (state.key !== c.key || state.ewma.length !== c.p) throw new AnomalyStateMismatchError(c.key, state.key);
  const { p, z, g, present, m, alpha } = c;
  const sensors = b.sensors;
  let n = 0;
  for (let j = 0; j < p; j++) {
    const x = readings[sensors[j]!];
    if (x === undefined || !Number.isFinite(x)) {
      present[j] = 0;
      z[j] = 0;
      continue;
    }
    const prev = state.ewma[j];
    const smooth = prev === null || prev === undefined ? x : prev + alpha * (x - prev);
    state.ewma[j] = smooth;
    present[j] = 1;
    z[j] = (smooth - c.center[j]!) * c.invScale[j]!;
    n++;
  }
  if (n === 0) return 0;
  if (m) {
    if (n < p) fillMissing(c, m);
    for (let j = 0; j < p; j++) {
      let s = 0;
      const row = j * p;
      for (let k = 0; k < p; k++) s += m[row + k]! * z[k]!;
      g[j] = s;
    }
  } else {
    g.set(z);
  }
  return n;
}

/** Combined raw statistic from the scratch buffers (before calibration); leaves the parts' sum in `c.total`. */
function combine(c: Compiled, n: number): number {
  const { p, z, g, w, present } = c;
  let d2 = 0;
  let total = 0;
  let largest = 0;
  for (let j = 0; j < p; j++) {
    if (!present[j]) continue;
    // zᵀMz over present sensors only: g is 0 on filled ones, so this is the whole form.
    d2 += z[j]! * g[j]!;
    const part = (g[j]! * g[j]!) / w[j]!;
    total += part;
    const own = Math.sqrt(part);
    if (own > largest) largest = own;
  }
  c.total = total;
  return c.max ? largest : Math.sqrt(Math.max(0, d2) / n);
}

/**
 * Uncalibrated statistics, for fitting and evaluation: returns the combined statistic and writes each
 * sensor's own statistic into `perSensor` (NaN when missing). Mutates `state` like {@link scoreAnomaly}.
 */
export function rawAnomalyStatistics(
  b: AnomalyBaseline,
  state: AnomalyState,
  readings: Readonly<Record<string, number>>,
  perSensor: Float64Array,
): number {
  const c = compiled(b);
  const n = evaluate(b, c, state, readings);
  for (let j = 0; j < c.p; j++) {
    perSensor[j] = c.present[j] && n > 0 ? Math.abs(c.g[j]!) / Math.sqrt(c.w[j]!) : Number.NaN;
  }
  return n === 0 ? 0 : combine(c, n);
}

/**
 * Scores one clean sample. Sensors absent from `readings` (or not finite) are scored as missing: they
 * neither update their EWMA nor count. Mutates `state` (the EWMA).
 * @throws AnomalyStateMismatchError when `state` was created for another baseline.
 */
export function scoreAnomaly(
  b: AnomalyBaseline,
  state: AnomalyState,
  readings: Readonly<Record<string, number>>,
): AnomalyResult {
  const c = compiled(b);
  const n = evaluate(b, c, state, readings);
  const sensors = b.sensors;
  const contributions: Record<string, number> = {};
  const sensorScores: Record<string, number> = {};
  const score = n === 0 ? 0 : applyCurve(combine(c, n), c.curve);
  const total = c.total;
  const { g, w, present } = c;
  for (let j = 0; j < c.p; j++) {
    const name = sensors[j]!;
    if (!present[j] || n === 0) {
      contributions[name] = 0;
      sensorScores[name] = 0;
      continue;
    }
    const part = (g[j]! * g[j]!) / w[j]!;
    contributions[name] = score > 0 && total > 0 ? part / total : 0;
    sensorScores[name] = applyCurve(Math.sqrt(part), c.sensorCurves[j]!);
  }
  return { score, contributions, sensorScores };
}

/** The `k` largest contributions, largest first (ties by sensor name); zero shares are left out. */
export function topContributors(r: AnomalyResult, k: number): Array<{ sensor: string; share: number }> {
  return Object.entries(r.contributions)
    .filter(([, share]) => share > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, Math.max(0, Math.floor(k)))
    .map(([sensor, share]) => ({ sensor, share }));
}
