import type { Objective } from './params.ts';
import type { TrainedTree } from './tree.ts';

/**
 * Formats a float field so that xgboost's parser reads a Number: the shortest text that reads back as
 * the same float32 (9 significant digits always do), and always a `.` or exponent (`0` would be read as
 * an Integer and fail with "Invalid cast").
 */
export function formatFloat(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`cannot write non-finite float ${x} to XGBoost JSON`);
  const v = Math.fround(x);
  let s = v.toPrecision(9);
  for (let p = 1; p < 9; p++) {
    const t = v.toPrecision(p);
    if (Math.fround(Number(t)) === v) {
      s = t;
      break;
    }
  }
  return /[.eE]/.test(s) ? s : s + '.0';
}

/** What the writer needs from a trained model. */
export interface WritableModel {
  readonly objective: Objective;
  readonly baseScore: number;
  readonly numFeature: number;
  readonly trees: readonly TrainedTree[];
  readonly featureNames?: readonly string[] | undefined;
  readonly scalePosWeight: number;
  readonly maxDeltaStep: number;
}

const floats = (a: Float32Array): string => {
  const parts = new Array<string>(a.length);
  for (let i = 0; i < a.length; i++) parts[i] = formatFloat(a[i]!);
  return '[' + parts.join(',') + ']';
};
const ints = (a: ArrayLike<number>): string => '[' + Array.from(a, (v) => String(v)).join(',') + ']';
const str = (s: string): string => JSON.stringify(s);

function objectiveJson(m: WritableModel): string {
  switch (m.objective) {
    case 'binary:logistic':
    case 'reg:squarederror':
      return `{"name":${str(m.objective)},"reg_loss_param":{"scale_pos_weight":${str(formatFloat(m.scalePosWeight))}}}`;
    case 'count:poisson':
      return `{"name":"count:poisson","poisson_regression_param":{"max_delta_step":${str(formatFloat(m.maxDeltaStep))}}}`;
  }
}

function treeJson(t: TrainedTree, id: number, numFeature: number): string {
  const nn = t.left.length;
  const zeros = ints(new Uint8Array(nn));
  return (
    '{' +
    `"base_weights":${floats(t.baseWeight)},` +
    '"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],' +
    `"default_left":${ints(t.defaultLeft)},` +
    `"id":${id},` +
    `"left_children":${ints(t.left)},` +
    `"loss_changes":${floats(t.lossChange)},` +
    `"parents":${ints(t.parent)},` +
    `"right_children":${ints(t.right)},` +
    `"split_conditions":${floats(t.cond)},` +
    `"split_indices":${ints(t.feature)},` +
    `"split_type":${zeros},` +
    `"sum_hessian":${floats(t.sumHessian)},` +
    `"tree_param":{"num_deleted":"0","num_feature":"${numFeature}","num_nodes":"${nn}","size_leaf_vector":"0"}` +
    '}'
  );
}

/**
 * Serialises to the XGBoost 1.7 JSON model schema (loads in 1.7.4, 3.0.5 and 3.2.0). `base_score` is
 * the scalar string form every version reads; `attributes` is empty because the model is already
 * truncated to its best iteration (a `best_ntree_limit` would make SageMaker's 1.7 container use fewer
 * trees than other readers).
 */
export function writeXgboostJson(m: WritableModel): string {
  const trees = m.trees.map((t, i) => treeJson(t, i, m.numFeature)).join(',');
  const names = m.featureNames ? '[' + m.featureNames.map(str).join(',') + ']' : '[]';
  return (
    '{"learner":{' +
    '"attributes":{},' +
    `"feature_names":${names},` +
    '"feature_types":[],' +
    '"gradient_booster":{"model":{' +
    `"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"${m.trees.length}","size_leaf_vector":"0"},` +
    `"tree_info":${ints(new Uint8Array(m.trees.length))},` +
    `"trees":[${trees}]` +
    '},"name":"gbtree"},' +
    '"learner_model_param":{' +
    `"base_score":${str(formatFloat(m.baseScore))},` +
    `"boost_from_average":"1","num_class":"0","num_feature":"${m.numFeature}","num_target":"1"},` +
    `"objective":${objectiveJson(m)}` +
    '},"version":[1,7,4]}'
  );
}
