/**
 * One served model from several boosters: their mean, written as a single XGBoost JSON model. For an
 * identity link (`reg:squarederror`) the output is base + Σ leaves, so the mean of K boosters is the
 * booster holding all their trees with every leaf divided by K and the mean base score. The product's
 * evaluator and every xgboost reader then serve the average without knowing it is one.
 */
import { type TrainedBooster, type TrainedTree, writeXgboostJson } from '../gbdt/index.ts';

/** The boosters cannot be averaged into one model. */
export class BaggingError extends Error {
  override readonly name: string = 'BaggingError';
}

function scaled(t: TrainedTree, k: number): TrainedTree {
  const cond = Float32Array.from(t.cond);
  const baseWeight = Float32Array.from(t.baseWeight);
  // Leaves (no left child) hold the value added to the margin; split conditions stay as they are.
  for (let i = 0; i < t.left.length; i++) if (t.left[i] === -1) cond[i] = cond[i]! / k;
  for (let i = 0; i < baseWeight.length; i++) baseWeight[i] = baseWeight[i]! / k;
  return { ...t, cond, baseWeight };
}

/**
 * XGBoost JSON of the mean of `boosters` (regression with identity link only).
 * @throws BaggingError when there are none, the objective is not `reg:squarederror`, or the boosters
 *   disagree on the feature count.
 */
export function averageBoostersJson(boosters: readonly TrainedBooster[], featureNames: readonly string[]): string {
  const first = boosters[0];
  if (!first) throw new BaggingError('no boosters to average');
  for (const b of boosters) {
    if (b.objective !== 'reg:squarederror') {
      throw new BaggingError(`only reg:squarederror boosters average by their trees, got ${b.objective}`);
    }
    if (b.numFeature !== first.numFeature) {
      throw new BaggingError(`boosters have ${first.numFeature} and ${b.numFeature} features`);
    }
  }
  const k = boosters.length;
  return writeXgboostJson({
    objective: 'reg:squarederror',
    baseScore: boosters.reduce((s, b) => s + b.baseScore, 0) / k,
    numFeature: first.numFeature,
    trees: boosters.flatMap((b) => b.trees.map((t) => scaled(t, k))),
    featureNames,
    scalePosWeight: first.params.scalePosWeight,
    maxDeltaStep: first.params.maxDeltaStep,
  });
}
