/**
 * Calibration and alert thresholds of a retrained classifier, and the figures of a classifier as it
 * serves (calibrated, deciding at its own thresholds). The champion's calibration maps the champion's
 * raw outputs, so a new model needs its own before it may serve: the retraining evaluation fits both
 * on the validation slice (inside the training period, before the held-out slice), the way the
 * trainers and `pdm retrain` do (`../model/fit-decision.ts`; docs/models.md, "From scores to alerts").
 * Pure: scores, labels and slice indexes come in as values.
 */
import { z } from 'zod';
import type { AlertPolicy } from '../alerts/policy.ts';
import { type AlertThresholds, type Calibration, calibrate } from '../model/decision.ts';
import { type AlertSimulation, type DecisionSeries, chooseThresholds, fitIsotonic, simulateAlerts } from '../model/fit-decision.ts';
import { averagePrecision } from '../model/metrics.ts';
import type { HealthPolicy } from '../twin/health.ts';

/** A slice index does not describe the slice's CSV (length, shape). */
export class SliceIndexError extends Error {
  override readonly name: string = 'SliceIndexError';
}

/** What the export writes next to a validation or holdout CSV (`lambdas/core/history/training.ts` SliceIndex). */
export const sliceIndexSchema = z.strictObject({
  assetId: z.array(z.string()),
  ts: z.array(z.number()),
  failures: z.record(z.string(), z.array(z.number())),
});
export type SliceIndexJson = z.infer<typeof sliceIndexSchema>;

/** @throws SliceIndexError unless `value` is an index of `rows` rows. */
export function parseSliceIndex(value: unknown, rows: number, what: string): SliceIndexJson {
  const r = sliceIndexSchema.safeParse(value);
  if (!r.success) throw new SliceIndexError(`${what}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`);
  if (r.data.assetId.length !== rows || r.data.ts.length !== rows) {
    throw new SliceIndexError(`${what}: ${r.data.assetId.length} assets and ${r.data.ts.length} times for ${rows} CSV rows`);
  }
  return r.data;
}

export interface DecisionContext {
  readonly health: HealthPolicy;
  readonly alert: Pick<AlertPolicy, 'cooldown' | 'emitInfo'>;
  /** The catalog's downtime hours (unplanned failure, planned intervention). */
  readonly downtime: { readonly unplanned: number; readonly planned: number };
  /** The predictor's failure horizon, ms: alerts are scored against failures within it. */
  readonly horizon: number;
}

/** Per-asset series in time order, as the threshold choice and the alert simulation read them. */
export function seriesOf(index: SliceIndexJson, p: ArrayLike<number>): DecisionSeries[] {
  const byAsset = new Map<string, number[]>();
  index.assetId.forEach((a, i) => byAsset.set(a, [...(byAsset.get(a) ?? []), i]));
  return [...byAsset].map(([key, rows]) => {
    const order = [...rows].sort((a, b) => index.ts[a]! - index.ts[b]!);
    return { key, t: order.map((i) => index.ts[i]!), p: order.map((i) => p[i]!), failures: index.failures[key] ?? [] };
  });
}

export interface RetrainDecision {
  readonly calibration: Calibration;
  readonly alertThresholds: AlertThresholds;
  /** The WARNING threshold, as the manifest's `threshold`. */
  readonly threshold: number;
  /** What the chosen WARNING threshold did on the validation slice. */
  readonly validation: AlertSimulation & { readonly rows: number; readonly positives: number };
}

/**
 * Fits the isotonic calibration on the validation slice's raw outputs, then chooses the thresholds on
 * the calibrated series (cost rule with the catalog's downtime hours).
 */
export function fitRetrainDecision(raw: ArrayLike<number>, labels: ArrayLike<number>, index: SliceIndexJson, ctx: DecisionContext & { readonly describe: string }): RetrainDecision {
  const calibration = fitIsotonic(raw, labels);
  const p = Float64Array.from({ length: raw.length }, (_, i) => calibrate(calibration, raw[i]!));
  const choice = chooseThresholds(seriesOf(index, p), { ...ctx, describe: ctx.describe });
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i]! > 0.5 ? 1 : 0;
  return { calibration, alertThresholds: choice.thresholds, threshold: choice.thresholds.warning, validation: { ...choice.warning, rows: raw.length, positives } };
}

/**
 * A classifier's held-out figures as it serves: `prAuc` of the calibrated probability (the gated
 * figure: isotonic blocks tie scores, so it can differ from the raw ranking's, reported as `prAucRaw`),
 * the Brier score, and the alerts its WARNING threshold raises (`alertFailures`, `alertsCaught`,
 * `alerts`, `falseAlerts`). A model without thresholds serves its output as the risk, so it alerts where
 * the risk reaches the health policy's WARNING enter threshold.
 */
export function servedClassifierMetrics(
  raw: ArrayLike<number>,
  labels: ArrayLike<number>,
  index: SliceIndexJson,
  decision: { readonly calibration?: Calibration | undefined; readonly alertThresholds?: AlertThresholds | undefined },
  ctx: DecisionContext,
): Record<string, number> {
  const p = Float64Array.from({ length: raw.length }, (_, i) => calibrate(decision.calibration, raw[i]!));
  let brier = 0;
  for (let i = 0; i < p.length; i++) brier += (p[i]! - labels[i]!) ** 2;
  const warning = decision.alertThresholds?.warning ?? ctx.health.enter.WARNING;
  const sim = simulateAlerts(seriesOf(index, p), warning, { ...ctx, describe: '' });
  return {
    prAuc: averagePrecision(p, labels),
    prAucRaw: averagePrecision(raw, labels),
    brier: p.length > 0 ? brier / p.length : Number.NaN,
    alertFailures: sim.failures,
    alertsCaught: sim.caught,
    alerts: sim.alerts,
    falseAlerts: sim.falseAlerts,
  };
}
