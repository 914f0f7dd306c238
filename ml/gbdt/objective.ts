import type { EvalMetric, Objective } from './params.ts';
import { TrainInputError } from './params.ts';

const f32 = Math.fround;

/**
 * Margin of a base score, in float32 at each step as xgboost's `ProbToMargin` does, so that the margin
 * our trainer starts from is the one xgboost and the evaluator compute on load.
 */
export function probToMargin(objective: Objective, baseScore: number): number {
  const b = f32(baseScore);
  switch (objective) {
    case 'binary:logistic':
      return f32(-f32(Math.log(f32(f32(1 / b) - 1))));
    case 'count:poisson':
      return f32(Math.log(b));
    case 'reg:squarederror':
      return b;
  }
}

/** Rejects labels the objective cannot take (xgboost rejects them too). */
export function checkLabels(objective: Objective, y: ArrayLike<number>, what: string): void {
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (!Number.isFinite(v)) throw new TrainInputError(`${what}: label ${i} is not finite (${v})`);
    if (objective === 'binary:logistic' && (v < 0 || v > 1)) {
      throw new TrainInputError(`${what}: label ${i} = ${v}, binary:logistic needs labels in [0, 1]`);
    }
    if (objective === 'count:poisson' && v < 0) {
      throw new TrainInputError(`${what}: label ${i} = ${v}, count:poisson needs labels ≥ 0`);
    }
  }
}

export interface GradientConfig {
  readonly objective: Objective;
  readonly scalePosWeight: number;
  readonly maxDeltaStep: number;
}

/**
 * First and second derivatives of the loss at the current margins, stored in float32 as xgboost's
 * GradientPair is. Rows outside the sample keep stale values; they are never read.
 */
export function computeGradients(
  cfg: GradientConfig,
  margin: Float32Array,
  y: ArrayLike<number>,
  weight: Float32Array | undefined,
  grad: Float32Array,
  hess: Float32Array,
): void {
  const n = margin.length;
  switch (cfg.objective) {
    case 'binary:logistic': {
      const spw = cfg.scalePosWeight;
      for (let i = 0; i < n; i++) {
        const p = sigmoid(margin[i]!);
        const yi = y[i]!;
        let w = weight ? weight[i]! : 1;
        if (yi === 1) w *= spw;
        grad[i] = (p - yi) * w;
        hess[i] = Math.max(p * (1 - p), 1e-16) * w;
      }
      return;
    }
    case 'reg:squarederror':
      for (let i = 0; i < n; i++) {
        const w = weight ? weight[i]! : 1;
        grad[i] = (margin[i]! - y[i]!) * w;
        hess[i] = w;
      }
      return;
    case 'count:poisson': {
      // xgboost's Poisson hessian is exp(p + max_delta_step): a deliberately inflated curvature.
      const mds = cfg.maxDeltaStep;
      for (let i = 0; i < n; i++) {
        const w = weight ? weight[i]! : 1;
        const m = margin[i]!;
        grad[i] = (Math.exp(m) - y[i]!) * w;
        hess[i] = Math.exp(m + mds) * w;
      }
      return;
    }
  }
}

/** xgboost's sigmoid with float32 rounding after each operation. */
export function sigmoid(m: number): number {
  return f32(1 / f32(f32(f32(Math.exp(Math.min(-m, 88.7))) + 1) + 1e-16));
}

/** True when a larger value of the metric is better. */
export const maximizes = (m: EvalMetric): boolean => m === 'auc';

/** Weighted metric of margins against labels, as xgboost defines it. */
export function evalMetric(
  metric: EvalMetric,
  margin: Float32Array,
  y: ArrayLike<number>,
  weight?: Float32Array,
): number {
  const n = margin.length;
  let sw = 0;
  let s = 0;
  switch (metric) {
    case 'logloss': {
      const eps = 1e-16;
      for (let i = 0; i < n; i++) {
        const w = weight ? weight[i]! : 1;
        const p = sigmoid(margin[i]!);
        const yi = y[i]!;
        const l = p < eps ? -yi * Math.log(eps) : p > 1 - eps ? -(1 - yi) * Math.log(eps) : 0;
        s += w * (l !== 0 ? l : -(yi * Math.log(p) + (1 - yi) * Math.log(1 - p)));
        sw += w;
      }
      return s / sw;
    }
    case 'rmse':
      for (let i = 0; i < n; i++) {
        const w = weight ? weight[i]! : 1;
        const d = margin[i]! - y[i]!;
        s += w * d * d;
        sw += w;
      }
      return Math.sqrt(s / sw);
    case 'poisson-nloglik':
      for (let i = 0; i < n; i++) {
        const w = weight ? weight[i]! : 1;
        const py = Math.max(Math.exp(margin[i]!), 1e-16);
        const yi = y[i]!;
        s += w * (logGamma(yi + 1) + py - Math.log(py) * yi);
        sw += w;
      }
      return s / sw;
    case 'auc':
      return auc(margin, y, weight);
  }
}

/** Weighted ROC AUC; tied scores count half. Returns NaN when one class is absent. */
export function auc(score: ArrayLike<number>, y: ArrayLike<number>, weight?: ArrayLike<number>): number {
  const n = score.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => score[a]! - score[b]!);
  let negBelow = 0;
  let area = 0;
  let pos = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    let tp = 0;
    let tn = 0;
    while (j < n && score[idx[j]!] === score[idx[i]!]) {
      const r = idx[j]!;
      const w = weight ? weight[r]! : 1;
      tp += w * y[r]!;
      tn += w * (1 - y[r]!);
      j++;
    }
    area += tp * (negBelow + tn / 2);
    negBelow += tn;
    pos += tp;
    i = j;
  }
  return pos === 0 || negBelow === 0 ? Number.NaN : area / (pos * negBelow);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7): ample precision for a metric. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let k = 1; k < 9; k++) a += c[k]! / (z + k);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}
