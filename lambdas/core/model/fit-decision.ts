/**
 * Calibration and alert thresholds for a classifier, fitted on validation data inside its training
 * period (never on the data its figures are reported on). See docs/models.md, "From scores to alerts".
 *
 * - Calibration: isotonic regression (pool adjacent violators) of the validation labels on the raw
 *   output, with blocks pooled until each holds at least `minBlockRows` rows, so a handful of rows at
 *   the top cannot claim a probability of 1. Stored as a piecewise-linear map in the manifest.
 * - Thresholds: the twin's health state machine is run over each validation series (one per asset and
 *   target) with candidate thresholds, exactly as in the pipeline (confirmation samples, hysteresis,
 *   alert cooldown, reset at every replacement), and the resulting WARNING/CRITICAL alerts are scored
 *   against the real failures: a failure is caught when an alert precedes it within the horizon, an
 *   alert is false when no failure follows it within the horizon. The WARNING threshold minimises the
 *   expected downtime cost from the asset model's catalog:
 *     missed × unplanned hours + (caught + false alerts) × planned hours
 *   (each caught failure becomes a planned intervention, each false alert an unnecessary one). CRITICAL
 *   is the lowest candidate above it whose alerts are right at least half the time (and at least as
 *   often as WARNING's); WATCH is half of WARNING.
 */
import { type AlertPolicy, shouldEmit } from '../alerts/policy.ts';
import type { AlertThresholds, Calibration } from '../model/decision.ts';
import { calibrate, riskFromProbability } from '../model/decision.ts';
import { type HealthChange, type HealthPolicy, newHealthTrack, observeRiskInto } from '../twin/health.ts';

/** Calibration or threshold inputs that cannot be fitted (mismatched lengths, no rows). */
export class DecisionInputError extends Error {
  override readonly name: string = 'DecisionInputError';
}

export interface IsotonicOptions {
  /** Fewest validation rows per block of the map. @default max(20, rows / 100) */
  readonly minBlockRows?: number;
}

/** Fits an isotonic calibration map of `y` (0/1) on `raw`. */
export function fitIsotonic(raw: ArrayLike<number>, y: ArrayLike<number>, opts: IsotonicOptions = {}): Calibration {
  const n = raw.length;
  if (n !== y.length) throw new DecisionInputError(`raw has ${n} values, labels ${y.length}`);
  if (n === 0) throw new DecisionInputError('cannot calibrate on no rows');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => raw[a]! - raw[b]!);
  // Blocks: [sum raw, sum y, count]; equal raw values always share a block, so x stays strictly increasing.
  const blocks: { sx: number; sy: number; n: number; last: number }[] = [];
  for (const i of order) {
    const x = raw[i]!;
    const top = blocks[blocks.length - 1];
    if (top && top.last === x) {
      top.sx += x;
      top.sy += y[i]!;
      top.n += 1;
    } else blocks.push({ sx: x, sy: y[i]!, n: 1, last: x });
    // Pool adjacent violators: merge while the mean label falls.
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1]!;
      const a = blocks[blocks.length - 2]!;
      if (a.sy / a.n <= b.sy / b.n) break;
      a.sx += b.sx;
      a.sy += b.sy;
      a.n += b.n;
      a.last = b.last;
      blocks.pop();
    }
  }
  const minRows = opts.minBlockRows ?? Math.max(20, Math.ceil(n / 100));
  // Pool small blocks into a neighbour (the one with the closer mean label): pooling adjacent blocks of
  // a non-decreasing sequence keeps it non-decreasing.
  let merged = true;
  while (merged && blocks.length > 1) {
    merged = false;
    for (let k = 0; k < blocks.length; k++) {
      const b = blocks[k]!;
      if (b.n >= minRows) continue;
      const left = k > 0 ? blocks[k - 1]! : undefined;
      const right = k + 1 < blocks.length ? blocks[k + 1]! : undefined;
      const mean = b.sy / b.n;
      const into =
        left && (!right || Math.abs(left.sy / left.n - mean) <= Math.abs(right.sy / right.n - mean)) ? k - 1 : k + 1;
      const target = blocks[into]!;
      target.sx += b.sx;
      target.sy += b.sy;
      target.n += b.n;
      // Pooled into the left neighbour, the block's right end becomes the neighbour's.
      if (into < k) target.last = b.last;
      blocks.splice(k, 1);
      merged = true;
      break;
    }
  }
  const x: number[] = [];
  const yy: number[] = [];
  for (const b of blocks) {
    const mx = b.sx / b.n;
    const my = b.sy / b.n;
    if (x.length > 0 && mx <= x[x.length - 1]!) continue; // float ties after pooling: keep the first
    x.push(mx);
    yy.push(Math.min(1, Math.max(yy.length > 0 ? yy[yy.length - 1]! : 0, my)));
  }
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i]! > 0 ? 1 : 0;
  return { method: 'isotonic', x, y: yy, rows: n, positives };
}

/** One asset's validation rows for one target, in time order. */
export interface DecisionSeries {
  readonly key: string;
  /** Clock times of the rows, increasing. */
  readonly t: ArrayLike<number>;
  /** Calibrated probabilities of the target at each row. */
  readonly p: ArrayLike<number>;
  /** Times of the target's failures of this asset (any order; outside the rows allowed). */
  readonly failures: readonly number[];
  /** Times the target was replaced or repaired (its health restarts from NORMAL). @default failures */
  readonly resets?: readonly number[];
}

export interface ThresholdOptions {
  readonly health: HealthPolicy;
  readonly alert: Pick<AlertPolicy, 'cooldown' | 'emitInfo'>;
  /** Downtime hours of an unplanned failure and of a planned intervention (the catalog's). */
  readonly downtime: { readonly unplanned: number; readonly planned: number };
  /** Alert look-ahead / failure look-back, clock units (as the replay scores alerts). */
  readonly horizon: number;
  /** Words for the manifest's `basis`, e.g. the validation window. */
  readonly describe: string;
}

export interface AlertSimulation {
  readonly threshold: number;
  readonly failures: number;
  readonly caught: number;
  readonly alerts: number;
  readonly falseAlerts: number;
  /** Downtime hours: missed × unplanned + (caught + false) × planned. */
  readonly costHours: number;
}

export interface ThresholdChoice {
  readonly thresholds: AlertThresholds;
  readonly warning: AlertSimulation;
  readonly critical: AlertSimulation;
  /** Every candidate evaluated, for reports. */
  readonly candidates: readonly AlertSimulation[];
}

/**
 * Runs the health state machine over every series with `warning` as the WARNING threshold and scores
 * the WARNING/CRITICAL alerts it emits against the failures.
 */
export function simulateAlerts(series: readonly DecisionSeries[], warning: number, opts: ThresholdOptions): AlertSimulation {
  const thresholds: AlertThresholds = {
    watch: warning / 2,
    warning,
    critical: warning + (1 - warning) / 2,
    basis: '',
  };
  const anchors = opts.health.enter;
  let failures = 0;
  let caught = 0;
  let alerts = 0;
  let falseAlerts = 0;
  const changes: HealthChange[] = [];
  for (const s of series) {
    const fails = [...s.failures].sort((a, b) => a - b);
    const resets = [...(s.resets ?? s.failures)].sort((a, b) => a - b);
    const n = s.t.length;
    if (n === 0) continue;
    const first = s.t[0]!;
    const last = s.t[n - 1]!;
    let track = newHealthTrack(first);
    const ledger: Record<string, number> = {};
    const alertTimes: number[] = [];
    let r = 0;
    while (r < resets.length && resets[r]! < first) r++;
    for (let i = 0; i < n; i++) {
      const t = s.t[i]!;
      while (r < resets.length && resets[r]! < t) {
        track = newHealthTrack(resets[r]!);
        r++;
      }
      const risk = riskFromProbability(s.p[i]!, thresholds, anchors);
      changes.length = 0;
      observeRiskInto(track, risk, t, opts.health, changes);
      for (const c of changes) {
        if (c.to !== 'WARNING' && c.to !== 'CRITICAL') continue;
        if (!shouldEmit(ledger, 'x', c.to, c.at, { ...opts.alert, emitInfo: true } as AlertPolicy)) continue;
        alertTimes.push(t);
      }
    }
    for (const f of fails) {
      // Failures the series can speak for: inside its rows, with the horizon before them observed.
      if (f <= first || f > last + opts.horizon) continue;
      failures += 1;
      if (alertTimes.some((a) => a >= f - opts.horizon && a < f)) caught += 1;
    }
    for (const a of alertTimes) {
      alerts += 1;
      if (!fails.some((f) => f > a && f <= a + opts.horizon)) falseAlerts += 1;
    }
  }
  const costHours =
    (failures - caught) * opts.downtime.unplanned + (caught + falseAlerts) * opts.downtime.planned;
  return { threshold: warning, failures, caught, alerts, falseAlerts, costHours };
}

/** Candidate thresholds: a log-spaced grid over the calibrated probabilities that occur. */
export function thresholdCandidates(series: readonly DecisionSeries[], count = 48): number[] {
  let hi = 0;
  for (const s of series) for (let i = 0; i < s.p.length; i++) hi = Math.max(hi, s.p[i]!);
  const top = Math.min(0.98, Math.max(hi, 0.02));
  const bottom = Math.min(0.005, top / 4);
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const v = bottom * (top / bottom) ** (k / (count - 1));
    out.push(Math.round(v * 1e6) / 1e6);
  }
  return [...new Set(out)].filter((v) => v > 0 && v < 1);
}

/** Chooses WATCH / WARNING / CRITICAL on validation series; see the module comment. */
export function chooseThresholds(series: readonly DecisionSeries[], opts: ThresholdOptions): ThresholdChoice {
  const candidates = thresholdCandidates(series).map((w) => simulateAlerts(series, w, opts));
  if (candidates.length === 0) throw new DecisionInputError('no candidate thresholds');
  // Lowest cost; on ties the higher threshold (fewer alerts for the same cost).
  let best = candidates[0]!;
  for (const c of candidates) if (c.costHours <= best.costHours) best = c;
  const precision = (c: AlertSimulation) => (c.alerts === 0 ? 0 : (c.alerts - c.falseAlerts) / c.alerts);
  const above = candidates.filter((c) => c.threshold > best.threshold);
  const critical =
    above.find((c) => c.alerts > 0 && precision(c) >= Math.max(0.5, precision(best))) ??
    simulateAlerts(series, Math.min(0.99, best.threshold + (1 - best.threshold) / 2), opts);
  const warning = best.threshold;
  const thresholds: AlertThresholds = {
    watch: round(warning / 2),
    warning: round(warning),
    critical: round(Math.max(critical.threshold, warning * 1.0001)),
    basis:
      `chosen on ${opts.describe}: WARNING minimises missed × ${opts.downtime.unplanned} h + (caught + false) × ` +
      `${opts.downtime.planned} h of downtime (${best.caught}/${best.failures} failures caught within ` +
      `${fmtHorizon(opts.horizon)}, ${best.falseAlerts} false of ${best.alerts} alerts); CRITICAL is the lowest ` +
      `threshold above it whose alerts were right at least half the time; WATCH is half of WARNING`,
  };
  return { thresholds, warning: best, critical, candidates };
}

function fmtHorizon(h: number): string {
  return h >= 3_600_000 ? `${Math.round(h / 3_600_000)} h` : `${h} cycles`;
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** Calibrated probabilities of raw outputs, for building {@link DecisionSeries}. */
export function calibrateAll(c: Calibration, raw: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: raw.length }, (_, i) => calibrate(c, raw[i]!));
}
