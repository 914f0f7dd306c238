/**
 * From model outputs to decisions. A classifier's raw output is a score, not a probability that holds
 * on new data (boosted trees are over-confident in-sample and rare labels make them under-confident
 * out of sample), so each classifier ships with:
 *  - a **calibration** fitted on validation data inside its training period (isotonic or Platt), which
 *    turns its raw output into a probability that the event happens within the horizon; and
 *  - **alert thresholds** on that calibrated probability (WATCH, WARNING, CRITICAL), chosen on the same
 *    validation data from the asset model's downtime costs (see fit-decision.ts and docs/models.md).
 * The twin maps a calibrated probability onto its health scale with {@link riskFromProbability}: the
 * model's WARNING threshold lands on the health policy's WARNING enter threshold, and so on, so the
 * hysteresis, confirmation and cooldown of the state machine apply unchanged, and each model decides
 * at its own thresholds. Pure functions; nothing here fits anything.
 */
import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'must be finite');
const unit = finite.min(0).max(1);

/** Piecewise-linear isotonic map: `x` strictly increasing raw outputs, `y` non-decreasing probabilities. */
export const isotonicSchema = z
  .strictObject({
    method: z.literal('isotonic'),
    x: z.array(finite).min(1),
    y: z.array(unit).min(1),
    /** Validation rows and positives the map was fitted on. */
    rows: z.number().int().nonnegative(),
    positives: z.number().int().nonnegative(),
  })
  .refine((c) => c.x.length === c.y.length, 'x and y must have the same length')
  .refine((c) => c.x.every((v, i) => i === 0 || v > c.x[i - 1]!), 'x must be strictly increasing')
  .refine((c) => c.y.every((v, i) => i === 0 || v >= c.y[i - 1]!), 'y must be non-decreasing');

/** Platt scaling on the raw output's logit: p = σ(a · logit(raw) + b). */
export const plattSchema = z.strictObject({
  method: z.literal('platt'),
  a: finite,
  b: finite,
  rows: z.number().int().nonnegative(),
  positives: z.number().int().nonnegative(),
});

export const calibrationSchema = z.union([isotonicSchema, plattSchema]);
export type Calibration = z.infer<typeof calibrationSchema>;

/** Alert thresholds on the calibrated probability, with how they were chosen. */
export const alertThresholdsSchema = z
  .strictObject({
    watch: unit,
    warning: unit,
    critical: unit,
    /** How the thresholds were chosen (costs, validation window), for people reading the manifest. */
    basis: z.string(),
  })
  .refine((t) => t.watch > 0 && t.watch < t.warning && t.warning < t.critical && t.critical <= 1, {
    message: 'thresholds must satisfy 0 < watch < warning < critical ≤ 1',
  });
export type AlertThresholds = z.infer<typeof alertThresholdsSchema>;

const EPS = 1e-12;

function logit(p: number): number {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
}

/** The calibrated probability of a raw classifier output; the raw output itself without a calibration. */
export function calibrate(c: Calibration | undefined, raw: number): number {
  if (!Number.isFinite(raw)) return Number.NaN;
  if (c === undefined) return raw;
  if (c.method === 'platt') return 1 / (1 + Math.exp(-(c.a * logit(raw) + c.b)));
  const { x, y } = c;
  const n = x.length;
  if (raw <= x[0]!) return y[0]!;
  if (raw >= x[n - 1]!) return y[n - 1]!;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= raw) lo = mid;
    else hi = mid;
  }
  const x0 = x[lo]!;
  const x1 = x[hi]!;
  const w = (raw - x0) / (x1 - x0);
  return y[lo]! + w * (y[hi]! - y[lo]!);
}

/** The health policy's enter thresholds, the anchor points of the risk scale. */
export interface RiskAnchors {
  readonly WATCH: number;
  readonly WARNING: number;
  readonly CRITICAL: number;
}

/**
 * Maps a calibrated probability onto the health scale: piecewise linear through (0, 0),
 * (watch, anchors.WATCH), (warning, anchors.WARNING), (critical, anchors.CRITICAL) and (1, 1). So the
 * state machine enters WARNING exactly when the model's probability reaches the model's WARNING
 * threshold, and the map is strictly increasing: a higher probability never means a lower risk.
 */
export function riskFromProbability(p: number, t: AlertThresholds, anchors: RiskAnchors): number {
  if (!(p > 0)) return 0;
  if (p >= 1) return 1;
  const points: readonly (readonly [number, number])[] = [
    [0, 0],
    [t.watch, anchors.WATCH],
    [t.warning, anchors.WARNING],
    [t.critical, anchors.CRITICAL],
    [1, 1],
  ];
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i]!;
    if (p <= x1) {
      const [x0, y0] = points[i - 1]!;
      return x1 > x0 ? y0 + ((p - x0) / (x1 - x0)) * (y1 - y0) : y1;
    }
  }
  return 1;
}

/** The decision inputs of one asset model's classifiers, read from its bundle entries. */
export interface ModelDecisions {
  /** The asset-level failure classifier's thresholds. */
  readonly failure?: AlertThresholds;
  /** Per component, its component-failure classifier's thresholds. */
  readonly components: Readonly<Record<string, AlertThresholds>>;
}

export const NO_DECISIONS: ModelDecisions = Object.freeze({ components: Object.freeze({}) });
