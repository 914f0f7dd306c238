/**
 * Binary classification metrics shared by the benchmark evaluations. Definitions follow scikit-learn's
 * (average precision as the step-wise sum, ROC AUC with ties counted half) so numbers are comparable
 * with the Python baselines that compute them with sklearn.
 */
import { auc } from '../gbdt/index.ts';

// Shared with the retraining pipeline's evaluation function, which may import the core only.
export { averagePrecision, rmse } from '../../lambdas/core/model/metrics.ts';

export interface BinaryCounts {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
}

export interface ThresholdMetrics {
  readonly threshold: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** Counts with `score >= threshold` predicted positive. */
export function countsAt(score: ArrayLike<number>, y: ArrayLike<number>, threshold: number): BinaryCounts {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < score.length; i++) {
    const p = score[i]! >= threshold;
    if (y[i]! > 0.5) {
      if (p) tp++;
      else fn++;
    } else if (p) fp++;
    else tn++;
  }
  return { tp, fp, fn, tn };
}

/** Precision, recall and F1 from counts; 0 where undefined (no predicted or no actual positives). */
export function prf(c: BinaryCounts): { precision: number; recall: number; f1: number } {
  const precision = c.tp + c.fp === 0 ? 0 : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? 0 : c.tp / (c.tp + c.fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/** Metrics at a fixed threshold (`score >= threshold` is positive). */
export function metricsAt(score: ArrayLike<number>, y: ArrayLike<number>, threshold: number): ThresholdMetrics {
  return { threshold, ...prf(countsAt(score, y, threshold)) };
}

function order(score: ArrayLike<number>): Uint32Array {
  const idx = new Uint32Array(score.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((a, b) => score[b]! - score[a]!);
}

/** ROC AUC, ties counted half; NaN when one class is absent. */
export function rocAuc(score: ArrayLike<number>, y: ArrayLike<number>): number {
  return auc(score, y);
}

/**
 * The threshold maximising F1 on (score, y): one of the scores, so `score >= threshold` reproduces the
 * best cut. Ties in F1 keep the higher threshold (fewer alarms). Without positives returns +∞-like 1.01
 * scores never reach, so nothing is flagged.
 */
export function bestF1Threshold(score: ArrayLike<number>, y: ArrayLike<number>): ThresholdMetrics {
  const idx = order(score);
  let pos = 0;
  for (let i = 0; i < y.length; i++) if (y[i]! > 0.5) pos++;
  let best: ThresholdMetrics = { threshold: Number.POSITIVE_INFINITY, precision: 0, recall: 0, f1: 0 };
  if (pos === 0) return best;
  let tp = 0;
  let seen = 0;
  let i = 0;
  while (i < idx.length) {
    const s = score[idx[i]!]!;
    while (i < idx.length && score[idx[i]!] === s) {
      if (y[idx[i]!]! > 0.5) tp++;
      seen++;
      i++;
    }
    const precision = tp / seen;
    const recall = tp / pos;
    const f1 = tp === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    if (f1 > best.f1) best = { threshold: s, precision, recall, f1 };
  }
  return best;
}

export interface MeanSd {
  readonly mean: number;
  readonly sd: number;
}

/** Mean and sample standard deviation (n − 1); sd 0 for a single value. */
export function meanSd(values: readonly number[]): MeanSd {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, sd: Number.NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, sd: 0 };
  const v = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, sd: Math.sqrt(v) };
}

/**
 * NASA/PHM08 score S = Σ (e^(−d/13) − 1) for d < 0, (e^(d/10) − 1) for d ≥ 0, d = pred − true: late
 * predictions cost more than early ones. A sum over engines, not a mean.
 */
export function nasaScore(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (pred.length !== truth.length) throw new RangeError(`${pred.length} predictions for ${truth.length} truths`);
  let s = 0;
  for (let i = 0; i < pred.length; i++) {
    const d = pred[i]! - truth[i]!;
    s += d < 0 ? Math.exp(-d / 13) - 1 : Math.exp(d / 10) - 1;
  }
  return s;
}
