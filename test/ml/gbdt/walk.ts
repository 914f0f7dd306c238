import type { TrainedBooster } from '../../../ml/gbdt/index.ts';

/**
 * Independent scorer for tests: walks raw float32 rows with the `x < split_condition` rule and NaN →
 * default_left, adding leaves to a float32 accumulator (the xgboost prediction rule, written out here
 * so that tests do not trust the trainer's binned routing).
 */
export function walkMargins(b: TrainedBooster, x: Float32Array, n: number, f: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let acc = Math.fround(b.baseMargin);
    for (const t of b.trees) {
      let node = 0;
      while (t.left[node] !== -1) {
        const v = x[i * f + t.feature[node]!]!;
        const goLeft = Number.isNaN(v) ? t.defaultLeft[node] === 1 : v < t.cond[node]!;
        node = goLeft ? t.left[node]! : t.right[node]!;
      }
      acc = Math.fround(acc + t.cond[node]!);
    }
    out[i] = acc;
  }
  return out;
}

/** Index of the first element that differs bitwise (NaN-aware), or −1. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}
