/**
 * Quantile binning.
 *
 * Each feature j has K_j sorted float32 cut points. A value x falls in value bin
 * `bin(x) = #{cuts ≤ x}` ∈ [0, K_j], so `bin(x) ≤ b ⇔ x < cut[b]`: a split "left iff bin ≤ b" is the
 * very `x < split_condition` test xgboost and our evaluator run, with `split_condition = cut[b]`.
 * Missing values (NaN) get their own bin K_j + 1, outside the value range. (An earlier prototype put
 * the missing bin at index maxBin − 1 and silently treated the top value bin as missing.)
 *
 * Bins are stored as global histogram slots: slot = offsets[j] + bin, with K_j + 2 slots per feature.
 */
export interface BinnedCuts {
  /** Per feature, strictly increasing finite float32 cut points (at most maxBin − 1 of them). */
  readonly cuts: readonly Float32Array[];
  /** First histogram slot of each feature; feature j owns slots [offsets[j], offsets[j+1]). */
  readonly offsets: Uint32Array;
  /** Total histogram slots over all features. */
  readonly totalSlots: number;
}

/** Row-major matrix of global slots, n × f. */
export type SlotMatrix = Uint16Array | Uint32Array;

/**
 * Computes float32 quantile cuts per feature from the non-missing values, weighted by `weight`
 * when given. With at most `maxBin` distinct values every distinct value gets its own bin.
 */
export function computeCuts(
  x: Float32Array,
  n: number,
  f: number,
  maxBin: number,
  weight?: Float32Array,
): BinnedCuts {
  const cuts: Float32Array[] = [];
  const vals = new Float32Array(n);
  const order = weight ? new Uint32Array(n) : undefined;
  for (let j = 0; j < f; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = x[i * f + j]!;
      if (!Number.isNaN(v)) {
        // -0 and +0 compare equal, so they must share a bin and a cut may never be -0.
        vals[m++] = v === 0 ? 0 : v;
      }
    }
    cuts.push(weight ? weightedCuts(m, maxBin, weight, order!, x, f, j) : unweightedCuts(vals, m, maxBin));
  }
  const offsets = new Uint32Array(f + 1);
  for (let j = 0; j < f; j++) offsets[j + 1] = offsets[j]! + cuts[j]!.length + 2;
  return { cuts, offsets, totalSlots: offsets[f]! };
}

function unweightedCuts(vals: Float32Array, m: number, maxBin: number): Float32Array {
  const v = vals.subarray(0, m).sort();
  // Distinct values and the count of values strictly below each.
  const dv: number[] = [];
  const below: number[] = [];
  for (let i = 0; i < m; i++) {
    if (i === 0 || v[i] !== v[i - 1]) {
      dv.push(v[i]!);
      below.push(i);
    }
  }
  return pickCuts(dv, below, m, maxBin);
}

function weightedCuts(
  m: number,
  maxBin: number,
  weight: Float32Array,
  order: Uint32Array,
  x: Float32Array,
  f: number,
  j: number,
): Float32Array {
  // Rebuild (value, weight) pairs in row order, then sort an index by value.
  let k = 0;
  const n = weight.length;
  for (let i = 0; i < n; i++) if (!Number.isNaN(x[i * f + j]!)) order[k++] = i;
  const idx = order.subarray(0, m);
  const val = (i: number): number => {
    const v = x[i * f + j]!;
    return v === 0 ? 0 : v;
  };
  idx.sort((a, b) => val(a) - val(b));
  const dv: number[] = [];
  const below: number[] = [];
  let cum = 0;
  for (let i = 0; i < m; i++) {
    const v = val(idx[i]!);
    if (i === 0 || v !== dv[dv.length - 1]) {
      dv.push(v);
      below.push(cum);
    }
    cum += weight[idx[i]!]!;
  }
  return pickCuts(dv, below, cum, maxBin);
}

/**
 * Picks at most maxBin − 1 cuts among the distinct values dv (dv[0] is never a cut: nothing lies below
 * it). Cut k is the first distinct value with at least k/maxBin of the total weight strictly below it.
 */
function pickCuts(dv: number[], below: number[], total: number, maxBin: number): Float32Array {
  const d = dv.length;
  if (d <= maxBin) return Float32Array.from(dv.slice(1));
  const out: number[] = [];
  let i = 1;
  for (let k = 1; k < maxBin; k++) {
    const target = (k * total) / maxBin;
    while (i < d && below[i]! < target) i++;
    if (i >= d) break;
    const c = dv[i]!;
    if (out.length === 0 || c > out[out.length - 1]!) out.push(c);
  }
  return Float32Array.from(out);
}

/** Value bin of x: the number of cuts ≤ x (upper bound by binary search). */
export function valueBin(cuts: Float32Array, x: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cuts[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Maps a row-major float32 matrix to global histogram slots (NaN → the feature's missing slot). */
export function binMatrix(x: Float32Array, n: number, f: number, bc: BinnedCuts): SlotMatrix {
  const out = bc.totalSlots <= 0xffff ? new Uint16Array(n * f) : new Uint32Array(n * f);
  for (let j = 0; j < f; j++) {
    const c = bc.cuts[j]!;
    const off = bc.offsets[j]!;
    const miss = off + c.length + 1;
    for (let i = 0, p = j; i < n; i++, p += f) {
      const v = x[p]!;
      out[p] = Number.isNaN(v) ? miss : off + valueBin(c, v);
    }
  }
  return out;
}
