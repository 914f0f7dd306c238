/**
 * Labels from the history for a retrain (docs/models.md, "Labels from the history"). Pure.
 *
 * The rule, for a feature row of asset a at time t, with F(a) the times of a's maintenance messages of
 * kind repair or replacement (the component failures the history knows) and E(a) the end of a's observed
 * history (its newest sample):
 * - failure within horizon h: 1 when some f in F(a) has t < f ≤ t + h; else 0 when t + h ≤ E(a); else
 *   censored (the horizon reaches past what was observed: the label is not known yet);
 * - RUL with cap c: min(f − t, c) for the first f in F(a) after t; without one, c when t + c ≤ E(a),
 *   else censored (no failure observed, and not for long enough to say "at least the cap").
 * The same rule as `trainingMatrix` (the `pdm history export` CSV) and the pump trainer's.
 */
import type { TrainingFeatureRow } from './training.ts';

export interface LabelInput {
  readonly rows: readonly TrainingFeatureRow[];
  /** Repair/replacement times (epoch ms) per asset. */
  readonly failures: ReadonlyMap<string, readonly number[]>;
  /** Newest sample time per asset (epoch ms). */
  readonly observedUntil: ReadonlyMap<string, number>;
  readonly horizonMs: number;
  readonly rulCapMs: number;
}

export interface LabelledRow {
  readonly assetId: string;
  readonly ts: number;
  readonly vector: readonly (number | null)[];
  /** 1, 0, or NaN = censored. */
  readonly failure: number;
  /** ms, or NaN = censored. */
  readonly rul: number;
}

/** Labels every row that carries a vector (rows written before the model had predictors are left out). */
export function labelRows(input: LabelInput, vectorLength: number): LabelledRow[] {
  const sorted = new Map<string, number[]>();
  for (const [asset, times] of input.failures) sorted.set(asset, [...times].sort((a, b) => a - b));
  const out: LabelledRow[] = [];
  for (const row of input.rows) {
    if (row.vector.length < vectorLength) continue;
    const end = input.observedUntil.get(row.assetId) ?? Number.NEGATIVE_INFINITY;
    const next = (sorted.get(row.assetId) ?? []).find((f) => f > row.ts);
    let failure: number;
    if (next !== undefined && next <= row.ts + input.horizonMs) failure = 1;
    else failure = row.ts + input.horizonMs <= end ? 0 : Number.NaN;
    let rul: number;
    if (next !== undefined) rul = Math.min(next - row.ts, input.rulCapMs);
    else rul = row.ts + input.rulCapMs <= end ? input.rulCapMs : Number.NaN;
    out.push({ assetId: row.assetId, ts: row.ts, vector: row.vector, failure, rul });
  }
  return out;
}

export interface TimeSplit {
  /** Training rows: ts < trainUntil (= validFrom − purge). */
  readonly trainUntil: number;
  /** Validation rows: validFrom ≤ ts < validUntil (= testFrom). */
  readonly validFrom: number;
  readonly validUntil: number;
  /** Held-out rows: ts ≥ testFrom. */
  readonly testFrom: number;
}

/**
 * Cuts the observed time span [first, last] at fractions: train before `validAt`, validation until
 * `testAt`, held out after. Time, not rows: a fleet that grows keeps its newest period for the test.
 * The training slice ends `purgeMs` (the failure horizon) before validation starts, so no training
 * label looks into the slices after it. Validation is not purged: it only stops the boosting and fits
 * calibration and thresholds, and on a few days of history a purge of a day would leave it nearly empty;
 * its last labels may use a failure time inside the held-out slice, never a held-out feature row.
 */
export function timeSplit(first: number, last: number, opts: { validAt: number; testAt: number; purgeMs: number }): TimeSplit {
  const span = last - first;
  const validFrom = first + Math.round(span * opts.validAt);
  const testFrom = first + Math.round(span * opts.testAt);
  return { trainUntil: validFrom - opts.purgeMs, validFrom, validUntil: testFrom, testFrom };
}
