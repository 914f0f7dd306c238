/**
 * Quantile bins of one feature, the unit PSI compares (docs/drift.md).
 *
 * A feature with k edges has k + 2 bins: k + 1 value bins (the outer two open-ended) and, last, the
 * missing-value bin (NaN: a feature the engine could not compute yet). Edges are float32 and values are
 * rounded to float32 before the comparison, because the evaluator compares in float32. A value equal
 * to an edge goes to the bin above it: XGBoost sends `x < split` left and everything else right, so
 * the bins split the data the way the trees do.
 */

/** Bins per feature before ties merge edges: deciles of the training data (notes §4). */
export const QUANTILE_BINS = 10;

/** Number of bins (value bins plus the missing bin) of a feature with these edges. */
export const binCount = (edges: ArrayLike<number>): number => edges.length + 2;

/**
 * The bin of `v`: the number of edges ≤ fround(v) for a number (−Infinity → 0, +Infinity → the top
 * value bin), `edges.length + 1` for NaN.
 */
export function binOf(edges: ArrayLike<number>, v: number): number {
  if (Number.isNaN(v)) return edges.length + 1;
  const x = Math.fround(v);
  let lo = 0;
  let hi = edges.length;
  // Upper bound: first edge strictly greater than x.
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Adds the bins of `values` to `counts` (length {@link binCount}). */
export function addToBins(edges: ArrayLike<number>, values: Iterable<number>, counts: number[]): void {
  for (const v of values) counts[binOf(edges, v)]! += 1;
}

/**
 * Edges at the training data's deciles: the float32 value at rank ⌊k·m/10⌋ of the m non-missing
 * values, for k = 1…9. Ties merge edges (a feature that is 0 on half the rows has fewer bins), and an
 * infinite quantile is dropped (its bin would hold nothing but that value's side). A feature with no
 * finite spread has no edges: one value bin and the missing bin.
 */
export function quantileEdges(values: ArrayLike<number>, bins: number = QUANTILE_BINS): number[] {
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) finite.push(Math.fround(v));
  }
  const sorted = Float32Array.from(finite).sort();
  const m = sorted.length;
  const edges: number[] = [];
  if (m === 0) return edges;
  for (let k = 1; k < bins; k++) {
    const e = sorted[Math.floor((k * m) / bins)]!;
    if (!Number.isFinite(e)) continue;
    // The smallest value as an edge would leave the bottom bin empty: nothing is below it.
    if (e === sorted[0]) continue;
    if (edges.length === 0 || e > edges[edges.length - 1]!) edges.push(e);
  }
  return edges;
}
