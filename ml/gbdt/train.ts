import { type BinnedCuts, binMatrix, computeCuts, type SlotMatrix } from './binning.ts';
import { checkLabels, computeGradients, evalMetric, maximizes, probToMargin } from './objective.ts';
import {
  type EvalMetric,
  type Objective,
  type ResolvedParams,
  resolveParams,
  TrainInputError,
  TrainParamError,
  type TrainParams,
} from './params.ts';
import { Rng } from './rng.ts';
import { type GrownTree, type TrainedTree, TreeGrower } from './tree.ts';
import { writeXgboostJson } from './writer.ts';

/** Training or validation data. */
export interface Dataset {
  /** Row-major n × f float32 features; NaN means missing. Infinite values are rejected. */
  readonly x: Float32Array;
  readonly n: number;
  readonly f: number;
  readonly y: Float32Array | Float64Array;
  /** Non-negative sample weights. @default all 1 */
  readonly weight?: Float32Array;
  /** Written to the model's `feature_names`. @default none */
  readonly featureNames?: string[];
}

/** Metric values of one round. */
export interface RoundMetrics {
  readonly metric: EvalMetric;
  /** Only when `evalTrain` is set. */
  readonly train?: number;
  /** Only with a validation set. */
  readonly valid?: number;
}

/** Metric per round (all rounds trained, including those cut off by early stopping). */
export interface TrainHistory {
  readonly metric: EvalMetric;
  readonly train: number[];
  readonly valid: number[];
}

/** A trained, already truncated model. */
export interface TrainedBooster {
  readonly objective: Objective;
  /** Trees 0..bestIteration; later rounds were dropped. */
  readonly trees: readonly TrainedTree[];
  /** Base score in output space, as written to the model. */
  readonly baseScore: number;
  /** float32 margin every prediction starts from. */
  readonly baseMargin: number;
  readonly numFeature: number;
  /** 0-based index of the last kept round. */
  readonly bestIteration: number;
  readonly history: TrainHistory;
  /** Training-set margins of the kept trees, accumulated in float32 exactly as inference does. */
  readonly trainMargins: Float32Array;
  /** Validation margins of the kept trees (empty without a validation set). */
  readonly validMargins: Float32Array;
  readonly cuts: BinnedCuts;
  readonly params: ResolvedParams;
  /** XGBoost 1.7-schema JSON text, loadable by xgboost 1.7.4 and later. */
  toXgboostJson(): string;
}

function checkDataset(d: Dataset, what: string, f?: number): void {
  const fail = (msg: string): never => {
    throw new TrainInputError(`${what}: ${msg}`);
  };
  if (!Number.isInteger(d.n) || d.n < 1) fail(`n must be a positive integer, got ${d.n}`);
  if (!Number.isInteger(d.f) || d.f < 1) fail(`f must be a positive integer, got ${d.f}`);
  if (f !== undefined && d.f !== f) fail(`has ${d.f} features, training data has ${f}`);
  if (d.x.length !== d.n * d.f) fail(`x has ${d.x.length} values, expected n × f = ${d.n * d.f}`);
  if (d.y.length !== d.n) fail(`y has ${d.y.length} labels, expected ${d.n}`);
  for (let i = 0; i < d.x.length; i++) {
    const v = d.x[i]!;
    if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
      fail(`x[row ${Math.floor(i / d.f)}, feature ${i % d.f}] is infinite; use NaN for missing`);
    }
  }
  if (d.weight) {
    if (d.weight.length !== d.n) fail(`weight has ${d.weight.length} values, expected ${d.n}`);
    let s = 0;
    for (let i = 0; i < d.n; i++) {
      const w = d.weight[i]!;
      if (!(w >= 0) || !Number.isFinite(w)) fail(`weight ${i} = ${w} must be finite and ≥ 0`);
      s += w;
    }
    if (s <= 0) fail('weights sum to 0');
  }
  if (d.featureNames && d.featureNames.length !== d.f) {
    fail(`featureNames has ${d.featureNames.length} names, expected ${d.f}`);
  }
}

/** Adds tree leaves to margins of binned rows, rounding to float32 after each add as inference does. */
function addTree(g: GrownTree, bins: SlotMatrix, f: number, margin: Float32Array, rowOf?: Uint8Array): void {
  const { left, right, feature, cond, defaultLeft } = g.tree;
  const { splitSlot, missSlot } = g;
  for (let r = 0; r < margin.length; r++) {
    if (rowOf && rowOf[r] === 1) continue;
    let node = 0;
    const base = r * f;
    while (left[node] !== -1) {
      const s = bins[base + feature[node]!]!;
      const goLeft = s === missSlot[node] ? defaultLeft[node] === 1 : s <= splitSlot[node]!;
      node = goLeft ? left[node]! : right[node]!;
    }
    margin[r] = margin[r]! + cond[node]!;
  }
}

/**
 * Trains a histogram GBDT compatible with xgboost's `tree_method=hist` (depth-wise, single output).
 * With `earlyStoppingRounds` the returned model is truncated to the best validation round.
 */
export function train(
  params: Partial<TrainParams>,
  trainSet: Dataset,
  valid?: Dataset,
  onRound?: (round: number, metrics: RoundMetrics) => void,
): TrainedBooster {
  const p = resolveParams(params);
  checkDataset(trainSet, 'train');
  checkLabels(p.objective, trainSet.y, 'train');
  if (valid) {
    checkDataset(valid, 'valid', trainSet.f);
    checkLabels(p.objective, valid.y, 'valid');
  }
  if (p.earlyStoppingRounds !== undefined && !valid) {
    throw new TrainParamError('earlyStoppingRounds needs a validation set');
  }
  const { n, f, y, weight } = trainSet;
  const cuts = computeCuts(trainSet.x, n, f, p.maxBin, weight);
  const bins = binMatrix(trainSet.x, n, f, cuts);
  const vbins = valid ? binMatrix(valid.x, valid.n, f, cuts) : undefined;
  const baseMargin = probToMargin(p.objective, p.baseScore);
  const margin = new Float32Array(n).fill(baseMargin);
  const vmargin = new Float32Array(valid ? valid.n : 0).fill(baseMargin);
  const grad = new Float32Array(n);
  const hess = new Float32Array(n);
  const rows = new Uint32Array(n);
  const inSample = p.subsample < 1 ? new Uint8Array(n) : undefined;
  const allFeats = Int32Array.from({ length: f }, (_, j) => j);
  const nColSample = Math.max(1, Math.floor(p.colsampleBytree * f));
  const rng = new Rng(p.seed);
  const grower = new TreeGrower(bins, f, cuts, p, n);
  const trees: TrainedTree[] = [];
  const history: TrainHistory = { metric: p.evalMetric, train: [], valid: [] };
  const better = maximizes(p.evalMetric) ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  let bestRound = -1;
  let bestScore = Number.NaN;
  const bestMargin = p.earlyStoppingRounds !== undefined ? new Float32Array(n) : undefined;
  const bestVMargin = p.earlyStoppingRounds !== undefined ? new Float32Array(vmargin.length) : undefined;

  for (let round = 0; round < p.nRounds; round++) {
    computeGradients(p, margin, y, weight, grad, hess);
    let m = 0;
    if (inSample) {
      for (let i = 0; i < n; i++) {
        const take = rng.next() < p.subsample;
        inSample[i] = take ? 1 : 0;
        if (take) rows[m++] = i;
      }
    } else {
      for (let i = 0; i < n; i++) rows[i] = i;
      m = n;
    }
    let feats = allFeats;
    if (nColSample < f) {
      const perm = allFeats.slice();
      for (let k = 0; k < nColSample; k++) {
        const r = k + rng.int(f - k);
        const t = perm[k]!;
        perm[k] = perm[r]!;
        perm[r] = t;
      }
      feats = perm.subarray(0, nColSample).sort();
    }
    const grown = grower.grow(grad, hess, rows, m, feats);
    trees.push(grown.tree);
    // Sampled rows already sit in their leaves' ranges; only the others need a walk.
    for (let q = 0; q < grown.leafNodes.length; q++) {
      const leaf = grown.tree.cond[grown.leafNodes[q]!]!;
      for (let k = grown.leafStart[q]!; k < grown.leafEnd[q]!; k++) {
        const r = rows[k]!;
        margin[r] = margin[r]! + leaf;
      }
    }
    if (inSample) addTree(grown, bins, f, margin, inSample);
    if (valid && vbins) addTree(grown, vbins, f, vmargin);

    const metrics: { metric: EvalMetric; train?: number; valid?: number } = { metric: p.evalMetric };
    if (p.evalTrain) {
      metrics.train = evalMetric(p.evalMetric, margin, y, weight);
      history.train.push(metrics.train);
    }
    if (valid) {
      metrics.valid = evalMetric(p.evalMetric, vmargin, valid.y, valid.weight);
      history.valid.push(metrics.valid);
    }
    onRound?.(round, metrics);
    if (p.earlyStoppingRounds !== undefined && metrics.valid !== undefined) {
      if (bestRound < 0 || better(metrics.valid, bestScore)) {
        bestRound = round;
        bestScore = metrics.valid;
        bestMargin!.set(margin);
        bestVMargin!.set(vmargin);
      } else if (round - bestRound >= p.earlyStoppingRounds) {
        break;
      }
    }
  }

  const truncate = p.earlyStoppingRounds !== undefined && bestRound >= 0 && bestRound < trees.length - 1;
  const bestIteration = truncate ? bestRound : trees.length - 1;
  const kept = trees.slice(0, bestIteration + 1);
  const booster: TrainedBooster = {
    objective: p.objective,
    trees: kept,
    baseScore: p.baseScore,
    baseMargin,
    numFeature: f,
    bestIteration,
    history,
    trainMargins: truncate ? bestMargin! : margin,
    validMargins: truncate ? bestVMargin! : vmargin,
    cuts,
    params: p,
    toXgboostJson: () =>
      writeXgboostJson({
        objective: p.objective,
        baseScore: p.baseScore,
        numFeature: f,
        trees: kept,
        featureNames: trainSet.featureNames,
        scalePosWeight: p.scalePosWeight,
        maxDeltaStep: p.maxDeltaStep,
      }),
  };
  return booster;
}
