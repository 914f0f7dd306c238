/**
 * Holdout metrics shared by the benchmark evaluations (ml/evaluate) and the retraining pipeline's
 * evaluation function. Definitions follow scikit-learn's so numbers compare with Python baselines.
 */

function order(score: ArrayLike<number>): Uint32Array {
  const idx = new Uint32Array(score.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((a, b) => score[b]! - score[a]!);
}

/**
 * Average precision Σ (Rₙ − Rₙ₋₁) Pₙ over distinct score thresholds, descending (sklearn's definition,
 * no interpolation): the "PR-AUC" of the reports. NaN without positives.
 */
export function averagePrecision(score: ArrayLike<number>, y: ArrayLike<number>): number {
  const idx = order(score);
  let pos = 0;
  for (let i = 0; i < y.length; i++) if (y[i]! > 0.5) pos++;
  if (pos === 0) return Number.NaN;
  let tp = 0;
  let seen = 0;
  let ap = 0;
  let i = 0;
  while (i < idx.length) {
    const s = score[idx[i]!]!;
    let newTp = 0;
    while (i < idx.length && score[idx[i]!] === s) {
      if (y[idx[i]!]! > 0.5) newTp++;
      seen++;
      i++;
    }
    tp += newTp;
    ap += (newTp / pos) * (tp / seen);
  }
  return ap;
}

/** Root-mean-square error; NaN for no rows. */
export function rmse(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (pred.length !== truth.length) throw new RangeError(`${pred.length} predictions for ${truth.length} truths`);
  if (pred.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += (pred[i]! - truth[i]!) ** 2;
  return Math.sqrt(s / pred.length);
}
