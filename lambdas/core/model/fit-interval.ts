/**
 * Fitting split-conformal RUL intervals (interval.ts holds the serving side). Pure, so both the local
 * trainers (ml/train) and the retraining evaluation Lambda fit with the same code. Fitted on
 * rows of units the model's early stopping held out: the residuals there are what the model does on
 * machines it never saw. Rows are binned by the point prediction into equal-count bins, and each bin
 * gets its own lower and upper residual quantile at the conformal ranks
 * ⌊(n + 1)·α/2⌋ and ⌈(n + 1)·(1 − α/2)⌉ (Vovk et al.; Lei et al. 2018, "Distribution-free predictive
 * inference for regression", for the split version; Mondrian binning by prediction for adaptivity).
 */
import type { RulInterval } from './interval.ts';
import { rulIntervalSchema } from './interval.ts';

/** Nominal coverage of every shipped RUL interval. */
export const RUL_INTERVAL_LEVEL = 0.9;
/** Calibration rows per bin at least: fewer make the extreme ranks noisy (a 5 % tail of 200 is 10 rows). */
export const MIN_ROWS_PER_BIN = 200;
/** Bins at most. */
export const MAX_BINS = 5;

export class ConformalInputError extends Error {
  override readonly name: string = 'ConformalInputError';
}

/**
 * Fits the interval from held-out predictions and their truth (the same target the model learned,
 * e.g. capped RUL).
 * @param pred point predictions, floored at 0 as the scorer serves them.
 * @throws ConformalInputError when the lengths differ, a value is not finite, or there are too few rows
 *   for the level (the extreme ranks would fall outside the sample).
 */
export function fitRulInterval(
  pred: ArrayLike<number>,
  truth: ArrayLike<number>,
  calibration: string,
  opts: { level?: number; maxBins?: number; minRowsPerBin?: number } = {},
): RulInterval {
  const level = opts.level ?? RUL_INTERVAL_LEVEL;
  const n = pred.length;
  if (truth.length !== n) throw new ConformalInputError(`${n} predictions but ${truth.length} truths`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(pred[i]!) || !Number.isFinite(truth[i]!)) {
      throw new ConformalInputError(`row ${i}: prediction ${pred[i]} and truth ${truth[i]} must be finite`);
    }
  }
  const alpha = 1 - level;
  const minRows = Math.max(opts.minRowsPerBin ?? MIN_ROWS_PER_BIN, Math.ceil(2 / alpha));
  if (n < minRows) {
    throw new ConformalInputError(`${n} calibration rows; a ${level} interval needs at least ${minRows}`);
  }
  const k = Math.max(1, Math.min(opts.maxBins ?? MAX_BINS, Math.floor(n / minRows)));
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => pred[a]! - pred[b]!);
  const edges: number[] = [];
  const bins: RulInterval['bins'] = [];
  let start = 0;
  for (let b = 0; b < k; b++) {
    let end = b === k - 1 ? n : Math.round(((b + 1) * n) / k);
    // Rows with one prediction stay in one bin, so an edge never splits a tie.
    while (end < n && end > start && pred[order[end]!]! === pred[order[end - 1]!]!) end++;
    if (end <= start) continue;
    const residuals = Float64Array.from(order.slice(start, end), (i) => truth[i]! - pred[i]!).sort();
    const m = residuals.length;
    const lo = Math.max(1, Math.floor((m + 1) * (alpha / 2)));
    const hi = Math.min(m, Math.ceil((m + 1) * (1 - alpha / 2)));
    bins.push({ lower: residuals[lo - 1]!, upper: residuals[hi - 1]!, n: m });
    // The next bin's smallest prediction: exact, where a midpoint of two close doubles may round onto one.
    if (end < n) edges.push(pred[order[end]!]!);
    start = end;
    if (end === n) break;
  }
  return rulIntervalSchema.parse({
    method: 'split-conformal',
    level,
    edges,
    bins,
    calibrationRows: n,
    calibration,
  });
}
