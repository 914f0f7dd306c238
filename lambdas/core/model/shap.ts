/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion & Lee, "Consistent individualized feature attribution for
 * tree ensembles", Algorithm 2), using node covers (`sum_hessian`) as the background distribution.
 *
 * The path of unique features from the root is kept as four parallel arrays (feature, zero fraction, one
 * fraction, permutation weight). Each recursion level works on its own copy stacked after its parent's, so
 * one triangular buffer of (D+2)(D+3)/2 elements, preallocated from the model's max depth, serves a row.
 * Arithmetic is float64 (libxgboost uses float32; see docs/model-contract.md for the resulting tolerance).
 */
import { UnsupportedModelError } from './errors.ts';
import { type CompiledModel, NODE_STRIDE, type ShapScratch } from './model.ts';
import { loadRow, step } from './predict.ts';

/**
 * Adds a feature to the path at `start` (length `len`), updating the permutation weights of all subsets.
 * Returns the new length.
 */
function extend(
  p: ShapScratch,
  start: number,
  len: number,
  zero: number,
  one: number,
  feature: number,
): number {
  const { weight } = p;
  const end = start + len;
  p.feature[end] = feature;
  p.zero[end] = zero;
  p.one[end] = one;
  weight[end] = len === 0 ? 1 : 0;
  const denom = len + 1;
  for (let i = len - 1; i >= 0; i--) {
    const w = weight[start + i]!;
    weight[start + i + 1]! += (one * w * (i + 1)) / denom;
    weight[start + i] = (zero * w * (len - i)) / denom;
  }
  return len + 1;
}

/** Removes element `k` from the path, undoing its effect on the weights. Returns the new length. */
function unwind(p: ShapScratch, start: number, len: number, k: number): number {
  const { weight } = p;
  const last = len - 1;
  const one = p.one[start + k]!;
  const zero = p.zero[start + k]!;
  let carry = weight[start + last]!;
  for (let j = last - 1; j >= 0; j--) {
    const w = weight[start + j]!;
    if (one !== 0) {
      const restored = (carry * len) / ((j + 1) * one);
      weight[start + j] = restored;
      carry = w - (restored * zero * (last - j)) / len;
    } else {
      weight[start + j] = (w * len) / (zero * (last - j));
    }
  }
  for (let j = k; j < last; j++) {
    p.feature[start + j] = p.feature[start + j + 1]!;
    p.zero[start + j] = p.zero[start + j + 1]!;
    p.one[start + j] = p.one[start + j + 1]!;
  }
  return last;
}

/** Total weight of the path with element `k` removed, without modifying the path. */
function unwoundSum(p: ShapScratch, start: number, len: number, k: number): number {
  const { weight } = p;
  const last = len - 1;
  const one = p.one[start + k]!;
  const zero = p.zero[start + k]!;
  let total = 0;
  if (one !== 0) {
    let carry = weight[start + last]!;
    for (let j = last - 1; j >= 0; j--) {
      const restored = (carry * len) / ((j + 1) * one);
      total += restored;
      carry = weight[start + j]! - (restored * zero * (last - j)) / len;
    }
  } else {
    for (let j = last - 1; j >= 0; j--) total += (weight[start + j]! * len) / (zero * (last - j));
  }
  return total;
}

function recurse(
  m: CompiledModel,
  x: Float32Array,
  phi: Float64Array,
  node: number,
  parentStart: number,
  parentLen: number,
  zero: number,
  one: number,
  feature: number,
): void {
  const p = m.shapScratch;
  const start = parentStart + parentLen;
  p.feature.copyWithin(start, parentStart, start);
  p.zero.copyWithin(start, parentStart, start);
  p.one.copyWithin(start, parentStart, start);
  p.weight.copyWithin(start, parentStart, start);
  let len = extend(p, start, parentLen, zero, one, feature);

  const rec = node * NODE_STRIDE;
  const left = m.nodes[rec + 2]!;
  if (left === node) {
    const leaf = m.leafValue[node]!;
    // Element 0 is the root's placeholder (feature -1); it carries no attribution.
    for (let i = 1; i < len; i++) {
      const w = unwoundSum(p, start, len, i);
      const e = start + i;
      phi[p.feature[e]!]! += w * (p.one[e]! - p.zero[e]!) * leaf;
    }
    return;
  }
  const split = m.nodes[rec]!;
  const hot = step(m.nodes, m.nodeValues, node, x, 0);
  const cold = hot === left ? left + 1 : left;
  const cover = m.cover[node]!;
  let inZero = 1;
  let inOne = 1;
  // A feature met again on the path is unwound first and its fractions carried into the new split.
  for (let k = 1; k < len; k++) {
    if (p.feature[start + k] === split) {
      inZero = p.zero[start + k]!;
      inOne = p.one[start + k]!;
      len = unwind(p, start, len, k);
      break;
    }
  }
  recurse(m, x, phi, hot, start, len, (m.cover[hot]! / cover) * inZero, inOne, split);
  recurse(m, x, phi, cold, start, len, (m.cover[cold]! / cover) * inZero, 0, split);
}

/**
 * SHAP values of one row in margin space, like xgboost's `pred_contribs=True`: `numFeatures` attributions
 * followed by the bias (base margin plus every tree's expected value). They sum to the margin.
 * @param out receives `numFeatures + 1` values; allocated when omitted.
 * @throws UnsupportedModelError when a node has a non-positive cover (the attribution is undefined).
 */
export function contributions(m: CompiledModel, row: ArrayLike<number>, out?: Float64Array): Float64Array {
  if (!m.shapSupported) {
    throw new UnsupportedModelError('TreeSHAP needs positive sum_hessian (cover) on every node of the model');
  }
  const x = loadRow(m, row);
  const phi = out ?? new Float64Array(m.numFeatures + 1);
  if (phi.length < m.numFeatures + 1) {
    throw new RangeError(`out has ${phi.length} slots, contributions need ${m.numFeatures + 1}`);
  }
  phi.fill(0, 0, m.numFeatures + 1);
  let bias = m.baseMargin;
  for (let t = 0; t < m.numTrees; t++) {
    const root = m.treeStart[t]!;
    bias += m.nodeMean[root]!;
    recurse(m, x, phi, root, 0, 0, 1, 1, -1);
  }
  phi[m.numFeatures] = bias;
  return phi;
}
