/**
 * Turbofan predictors trained on NASA C-MAPSS: remaining useful life (regression, piecewise-linear
 * target capped at 125 cycles) and P(failure within 30 cycles). Every feature comes from
 * `replayFeatures`, the code the feature Lambda runs, so training and serving see the same vectors.
 * Choices (feature subset, hyperparameters, refit) were made on held-out training engines; see
 * docs/cmapss.md for the numbers.
 */
import { createHash } from 'node:crypto';
import { nasaScore } from '../evaluate/metrics.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TURBOFAN } from '../../lambdas/core/catalog/models.ts';
import type { AnomalyBaseline } from '../../lambdas/core/anomaly/types.ts';
import type { AssetInfo, AssetModel } from '../../lambdas/core/catalog/types.ts';
import { HISTORY_LABEL } from '../../lambdas/core/features/index.ts';
import { loadXgboostModel, predictBatch } from '../../lambdas/core/model/index.ts';
import {
  type CmapssEngine,
  type CmapssFile,
  engineEvents,
  parseCmapss,
  parseRul,
} from '../datasets/cmapss.ts';
import { replayFeatures } from '../features/replay.ts';
import { auc, type TrainParams, train } from '../gbdt/index.ts';
import { Rng } from '../gbdt/rng.ts';
import type { RulInterval } from '../../lambdas/core/model/interval.ts';
import { fitRulInterval } from './conformal.ts';
import type { AssetModelPredictors, PredictorArtifact } from './types.ts';
import type { TrainingMatrix } from '../../lambdas/core/drift/reference.ts';

/** Cap of the piecewise-linear RUL target (Li et al. 2018 and most later work). */
export const RUL_CAP = 125;
/** Horizon of the failure classifier, in cycles. */
export const FAILURE_HORIZON = 30;
/** Share of training engines held out for early stopping and model choice. */
export const VALID_FRACTION = 0.2;
/**
 * After early stopping on 80 % of the engines, the model is refitted on all of them with this many
 * times the best round count: on engines held out from both steps this beat the early-stopped model
 * (RMSE 12.83 vs 13.19 over 5 splits; ×1.0 gave 12.90).
 */
export const REFIT_ROUNDS_SCALE = 1.2;

/** RUL hyperparameters, chosen on validation engines (docs/cmapss.md). `nRounds` is the early-stopping ceiling. */
export const RUL_PARAMS: Readonly<Partial<TrainParams>> = {
  objective: 'reg:squarederror',
  // With the whole-history features (features-2), eta 0.02 beat 0.05 on validation engines (5 seeds:
  // 8.39 vs 8.52, docs/cmapss.md); the slower rate needs a higher early-stopping ceiling.
  nRounds: 6000,
  eta: 0.02,
  maxDepth: 4,
  minChildWeight: 50,
  subsample: 0.8,
  colsampleBytree: 0.5,
  lambda: 1,
  earlyStoppingRounds: 100,
};

/** Failure-classifier hyperparameters. */
export const FAILURE_PARAMS: Readonly<Partial<TrainParams>> = {
  objective: 'binary:logistic',
  nRounds: 2000,
  eta: 0.05,
  maxDepth: 4,
  minChildWeight: 5,
  subsample: 0.8,
  colsampleBytree: 0.5,
  lambda: 1,
  earlyStoppingRounds: 100,
  evalMetric: 'logloss',
};

/** One engine after replay: the feature vector (all engine features, `names` order) at every cycle. */
export interface ReplayedEngine {
  readonly unit: number;
  readonly cycles: readonly number[];
  readonly vectors: readonly Float64Array[];
}

/** Replayed engines and the feature names of their vectors. */
export interface ReplayedSet {
  readonly names: readonly string[];
  readonly engines: readonly ReplayedEngine[];
}

/** The C-MAPSS run cannot be used (e.g. screening dropped cycles, or the RUL file does not match). */
export class CmapssDataError extends Error {
  override name = 'CmapssDataError';
}

/** The asset a C-MAPSS engine is replayed as, in training and in `pdm replay cmapss`. */
export function cmapssAsset(unit: number, model: AssetModel = TURBOFAN): AssetInfo {
  return { assetId: `cmapss-${unit}`, siteId: 'cmapss', modelId: model.id };
}

/**
 * Runs every engine through `replayFeatures` (one asset per engine).
 * @param model the asset model whose feature engine to run. @default TURBOFAN
 * @throws CmapssDataError when screening quarantined a cycle: a missing row would silently shift labels.
 */
export function replayCmapss(file: CmapssFile, model: AssetModel = TURBOFAN, baseline?: AnomalyBaseline): ReplayedSet {
  let names: readonly string[] = [];
  const engines = file.engines.map((e: CmapssEngine): ReplayedEngine => {
    const asset = cmapssAsset(e.unit, model);
    const r = replayFeatures(model, asset, engineEvents(e), undefined, baseline);
    names = r.names;
    if (r.rows.length !== e.cycles.length) {
      throw new CmapssDataError(
        `unit ${e.unit}: the pipeline accepted ${r.rows.length} of ${e.cycles.length} cycles (${r.quarantined} quarantined)`,
      );
    }
    return { unit: e.unit, cycles: r.rows.map((row) => row.seq), vectors: r.rows.map((row) => row.vector) };
  });
  return { names, engines };
}

/**
 * The RUL model's inputs: mean and slope over the long window of each featurised sensor, operating age
 * and the previous anomaly score, minus features that are constant over `engines`. On validation
 * engines this 30-feature set beat all 241 non-constant features (RMSE 12.40 vs 12.97; docs/cmapss.md):
 * `last`, `lag`, `min`, `max` and short windows add noise the trees fit.
 */
export function selectRulFeatures(set: ReplayedSet, model: AssetModel = TURBOFAN): string[] {
  const long = `${model.windows.long}c`;
  const all = HISTORY_LABEL;
  const wanted = set.names.filter(
    (n) =>
      n.endsWith(`_mean_${long}`) ||
      n.endsWith(`_slope_${long}`) ||
      n.endsWith(`_mean_${all}`) ||
      n.endsWith(`_slope_${all}`) ||
      n === 'op_age_c' ||
      n === 'anomaly_prev',
  );
  return wanted.filter((n) => !isConstant(set, set.names.indexOf(n)));
}

function isConstant(set: ReplayedSet, j: number): boolean {
  let first: number | undefined;
  for (const e of set.engines) {
    for (const v of e.vectors) {
      const x = v[j]!;
      if (Number.isNaN(x)) continue;
      if (first === undefined) first = x;
      else if (x !== first) return false;
    }
  }
  return true;
}

/** Shuffles units with a seeded generator and holds out `fraction` of them (at least one). */
export function splitUnits(
  units: readonly number[],
  fraction: number,
  seed: number,
): { train: Set<number>; valid: Set<number> } {
  const order = [...units];
  const rng = new Rng(seed * 7919 + 13);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const nValid = Math.min(order.length - 1, Math.max(1, Math.round(order.length * fraction)));
  return { valid: new Set(order.slice(0, nValid)), train: new Set(order.slice(nValid)) };
}

/** Rows of the chosen engines as a float32 matrix with labels from each engine's own failure cycle. */
interface Matrix {
  readonly x: Float32Array;
  readonly n: number;
  readonly f: number;
  readonly y: Float32Array;
}

function matrix(
  set: ReplayedSet,
  units: ReadonlySet<number> | undefined,
  features: readonly string[],
  label: (rul: number) => number,
): Matrix {
  const idx = features.map((n) => set.names.indexOf(n));
  const f = idx.length;
  let n = 0;
  for (const e of set.engines) if (!units || units.has(e.unit)) n += e.vectors.length;
  const x = new Float32Array(n * f);
  const y = new Float32Array(n);
  let r = 0;
  for (const e of set.engines) {
    if (units && !units.has(e.unit)) continue;
    // A training engine runs to failure at its last cycle; the label only uses that, never later data.
    const failCycle = e.cycles[e.cycles.length - 1]!;
    for (let k = 0; k < e.vectors.length; k++, r++) {
      const v = e.vectors[k]!;
      for (let j = 0; j < f; j++) x[r * f + j] = v[idx[j]!]!;
      y[r] = label(failCycle - e.cycles[k]!);
    }
  }
  return { x, n, f, y };
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

function rmse(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += (pred[i]! - truth[i]!) ** 2;
  return Math.sqrt(s / pred.length);
}


/** A trained RUL model and how it was obtained. */
export interface RulModel {
  readonly modelJson: string;
  readonly featureNames: readonly string[];
  /** Rounds of the early-stopped model (on the training engines minus the validation engines). */
  readonly bestRounds: number;
  /** Rounds of the returned model (after the refit). */
  readonly rounds: number;
  /** RMSE of the early-stopped model on validation-engine rows whose true RUL ≤ 145 (the test range). */
  readonly validRmse: number;
  readonly validUnits: readonly number[];
  /**
   * The 90 % split-conformal interval, from the early-stopped model's residuals on every cycle of the
   * validation engines (truth capped like the target). The refitted model is served with it: it saw
   * those engines, so the interval is measured on the closest model that did not.
   */
  readonly interval: RulInterval;
  readonly trainingRows: number;
  readonly params: Readonly<Record<string, number | string>>;
}

/** Options of {@link trainRulModel}. */
export interface RulTrainOptions {
  /** Seeds the validation split and the row/column sampling. @default 1 */
  readonly seed?: number;
  /** Early-stopping ceiling. @default RUL_PARAMS.nRounds (6000) */
  readonly maxRounds?: number;
  /** @default RUL_CAP (125) */
  readonly cap?: number;
  /** Refit on all engines after early stopping. @default true */
  readonly refit?: boolean;
  /** Model inputs. @default selectRulFeatures(set) */
  readonly features?: readonly string[];
  /** Overrides of {@link RUL_PARAMS} (for model-choice experiments on validation engines). @default none */
  readonly params?: Readonly<Partial<TrainParams>>;
}

/**
 * Trains the RUL regressor: early stopping on a seeded 20 % of the engines, then (by default) a refit on
 * all engines with {@link REFIT_ROUNDS_SCALE} × the best round count.
 */
export function trainRulModel(set: ReplayedSet, opts: RulTrainOptions = {}): RulModel {
  const seed = opts.seed ?? 1;
  const cap = opts.cap ?? RUL_CAP;
  const features = [...(opts.features ?? selectRulFeatures(set))];
  const label = (rul: number): number => Math.min(rul, cap);
  const { train: trainUnits, valid } = splitUnits(
    set.engines.map((e) => e.unit),
    VALID_FRACTION,
    seed,
  );
  const tr = matrix(set, trainUnits, features, label);
  const va = matrix(set, valid, features, label);
  // Starting from the label mean saves the first ~50 rounds of climbing from xgboost's 0.5.
  const baseScore = Math.round(mean(tr.y) * 100) / 100;
  const params: Partial<TrainParams> = {
    ...RUL_PARAMS,
    ...opts.params,
    nRounds: opts.maxRounds ?? opts.params?.nRounds ?? RUL_PARAMS.nRounds,
    baseScore,
    seed,
  };
  const early = train(params, { ...tr, featureNames: [...features] }, va);
  const bestRounds = early.bestIteration + 1;
  const inRange: number[] = [];
  const truth: number[] = [];
  const calPred: number[] = [];
  const calTruth: number[] = [];
  let r = 0;
  for (const e of set.engines) {
    if (!valid.has(e.unit)) continue;
    const failCycle = e.cycles[e.cycles.length - 1]!;
    for (const c of e.cycles) {
      calPred.push(Math.max(0, early.validMargins[r]!));
      calTruth.push(label(failCycle - c));
      if (failCycle - c <= 145) {
        inRange.push(early.validMargins[r]!);
        truth.push(label(failCycle - c));
      }
      r++;
    }
  }
  const validRmse = rmse(inRange, truth);
  const interval = fitRulInterval(
    calPred,
    calTruth,
    `every cycle of the ${valid.size} validation engines (seed ${seed}), early-stopped model, truth capped at ${cap}`,
  );
  let booster = early;
  let trainingRows = tr.n;
  if (opts.refit ?? true) {
    const all = matrix(set, undefined, features, label);
    const { earlyStoppingRounds: _, ...rest } = params;
    booster = train(
      { ...rest, nRounds: Math.max(1, Math.round(bestRounds * REFIT_ROUNDS_SCALE)) },
      { ...all, featureNames: [...features] },
    );
    trainingRows = all.n;
  }
  return {
    modelJson: booster.toXgboostJson(),
    featureNames: features,
    bestRounds,
    rounds: booster.bestIteration + 1,
    validRmse,
    validUnits: [...valid].sort((a, b) => a - b),
    interval,
    trainingRows,
    params: paramRecord(params, {
      rulCap: cap,
      validFraction: VALID_FRACTION,
      bestRounds,
      rounds: booster.bestIteration + 1,
      refit: (opts.refit ?? true) ? `all engines, ${REFIT_ROUNDS_SCALE} x best rounds` : 'none',
    }),
  };
}

function paramRecord(
  p: Partial<TrainParams>,
  extra: Record<string, number | string>,
): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(p)) if (typeof v === 'number' || typeof v === 'string') out[k] = v;
  return { ...out, ...extra };
}

/**
 * Predicts each engine's output at its last replayed cycle by loading the written model JSON with the
 * product's evaluator, so the figure is what the product serves. Rows after the last cycle do not exist
 * in the set, and replay is causal, so nothing after that cycle can reach the prediction.
 */
export function predictLastCycle(
  modelJson: string,
  featureNames: readonly string[],
  set: ReplayedSet,
): Float64Array {
  const model = loadXgboostModel(modelJson);
  const idx = featureNames.map((n) => {
    const j = set.names.indexOf(n);
    if (j < 0) throw new CmapssDataError(`feature '${n}' is not produced by the feature engine`);
    return j;
  });
  const f = idx.length;
  const rows = new Float32Array(set.engines.length * f);
  set.engines.forEach((e, k) => {
    const v = e.vectors[e.vectors.length - 1]!;
    for (let j = 0; j < f; j++) rows[k * f + j] = v[idx[j]!]!;
  });
  return predictBatch(model, rows, set.engines.length);
}

/** Average precision (area under the precision–recall curve, step-wise), ties taken together. */
export function averagePrecision(score: ArrayLike<number>, y: ArrayLike<number>): number {
  const order = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[b]! - score[a]!);
  let pos = 0;
  for (let i = 0; i < y.length; i++) pos += y[i]!;
  if (pos === 0) return Number.NaN;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let prevRecall = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && score[order[j]!] === score[order[i]!]) {
      if (y[order[j]!] === 1) tp++;
      else fp++;
      j++;
    }
    const recall = tp / pos;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
    i = j;
  }
  return ap;
}

/** The threshold t (predict positive when p ≥ t) with the best F1, and that F1. */
export function bestF1Threshold(score: ArrayLike<number>, y: ArrayLike<number>): { threshold: number; f1: number } {
  const order = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[b]! - score[a]!);
  let pos = 0;
  for (let i = 0; i < y.length; i++) pos += y[i]!;
  let tp = 0;
  let fp = 0;
  let best = { threshold: 0.5, f1: 0 };
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && score[order[j]!] === score[order[i]!]) {
      if (y[order[j]!] === 1) tp++;
      else fp++;
      j++;
    }
    const f1 = (2 * tp) / (tp + fp + pos);
    if (f1 > best.f1) best = { threshold: score[order[i]!]!, f1 };
    i = j;
  }
  return best;
}

/** A trained failure classifier with its validation metrics. */
export interface FailureModel {
  readonly modelJson: string;
  readonly featureNames: readonly string[];
  readonly threshold: number;
  readonly metrics: Readonly<Record<string, number>>;
  readonly trainingRows: number;
  readonly params: Readonly<Record<string, number | string>>;
}

/**
 * Trains P(failure within `horizon` cycles): label 1 at cycle c when the engine failed at most `horizon`
 * cycles after c (known for run-to-failure training engines; point-in-time, the features only see ≤ c).
 * The model is the early-stopped one, not refitted: its threshold and metrics are then measured on engines
 * it never saw, and they describe exactly the model that ships.
 */
export function trainFailureModel(
  set: ReplayedSet,
  opts: { seed?: number; horizon?: number; maxRounds?: number } = {},
): FailureModel {
  const seed = opts.seed ?? 1;
  const horizon = opts.horizon ?? FAILURE_HORIZON;
  const features = selectRulFeatures(set);
  const label = (rul: number): number => (rul <= horizon ? 1 : 0);
  const { train: trainUnits, valid } = splitUnits(
    set.engines.map((e) => e.unit),
    VALID_FRACTION,
    seed,
  );
  const tr = matrix(set, trainUnits, features, label);
  const va = matrix(set, valid, features, label);
  const params: Partial<TrainParams> = {
    ...FAILURE_PARAMS,
    nRounds: opts.maxRounds ?? FAILURE_PARAMS.nRounds,
    baseScore: Math.min(0.99, Math.max(0.01, Math.round(mean(tr.y) * 1000) / 1000)),
    seed,
  };
  const booster = train(params, { ...tr, featureNames: [...features] }, va);
  const modelJson = booster.toXgboostJson();
  const p = predictBatch(loadXgboostModel(modelJson), va.x, va.n);
  const { threshold, f1 } = bestF1Threshold(p, va.y);
  return {
    modelJson,
    featureNames: features,
    threshold,
    metrics: { prAuc: averagePrecision(p, va.y), rocAuc: auc(p, va.y), f1, validRows: va.n },
    trainingRows: tr.n,
    params: paramRecord(params, {
      horizon,
      validFraction: VALID_FRACTION,
      rounds: booster.bestIteration + 1,
    }),
  };
}

/**
 * The rows the turbofan predictors train on: every cycle of every engine (the RUL model is refitted on
 * all of them; the failure classifier's engines are a subset), the columns either reads.
 */
export function turbofanTrainingMatrix(set: ReplayedSet, features: readonly string[], source: string): TrainingMatrix {
  const m = matrix(set, undefined, features, () => 0);
  return { names: [...features], x: m.x, n: m.n, source: `${source}: every cycle of every engine` };
}

/**
 * The replayed training set and its hash as `trainTurbofanPredictors` reads them (no training): for
 * recomputing a shipped bundle's reference.
 */
export function turbofanTrainingSet(dataDir: string): { set: ReplayedSet; hash: string; trainingData: string } {
  const trainPath = join(dataDir, 'train_FD001.txt');
  const bytes = readFileSync(trainPath);
  const file = parseCmapss(bytes.toString('utf8'), trainPath);
  return {
    set: replayCmapss(file, TURBOFAN),
    hash: sha256(bytes),
    trainingData: `NASA C-MAPSS train_FD001.txt (${file.engines.length} engines, ${file.rows} cycles), replayed through the feature engine`,
  };
}

/** Training rows of each turbofan predictor for a seed (the RUL refit on all engines, failure on the split). */
export function turbofanTrainingRows(set: ReplayedSet, seed: number): Record<string, number> {
  const { train: units } = splitUnits(
    set.engines.map((e) => e.unit),
    VALID_FRACTION,
    seed,
  );
  const all = set.engines.reduce((a, e) => a + e.vectors.length, 0);
  const failure = set.engines.filter((e) => units.has(e.unit)).reduce((a, e) => a + e.vectors.length, 0);
  return { rul: all, failure };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Options of {@link trainTurbofanPredictors}. */
export interface TurbofanTrainOptions {
  /** Folder with `train_FD001.txt` (and, for the test metrics, `test_FD001.txt`, `RUL_FD001.txt`). */
  readonly dataDir: string;
  /** Validation split and sampling seed. @default 1 */
  readonly seed?: number;
  /** Training engines to leave out entirely (a held-out replay). @default none */
  readonly excludeUnits?: readonly number[];
  /** Anomaly baseline for `anomaly_prev` (the one the pipeline will serve with). @default the shipped one */
  readonly baseline?: AnomalyBaseline;
  /** Early-stopping ceiling of both models (lower it for quick checks). @default their params' */
  readonly maxRounds?: number;
}

/**
 * The turbofan predictors for the model bundle, trained on `train_FD001.txt` in `dataDir`: `rul` (all
 * training engines, cap 125) and `failure` (within 30 cycles). When `test_FD001.txt` and `RUL_FD001.txt`
 * are there too, the RUL metrics include the standard test protocol (last cycle, truth capped at 125).
 * @param seed validation split and sampling seed. @default 1
 */
export function trainTurbofanPredictors(opts: TurbofanTrainOptions): AssetModelPredictors {
  const seed = opts.seed ?? 1;
  const trainPath = join(opts.dataDir, 'train_FD001.txt');
  const bytes = readFileSync(trainPath);
  const parsed = parseCmapss(bytes.toString('utf8'), trainPath);
  const excluded = new Set(opts.excludeUnits ?? []);
  const unknown = [...excluded].filter((u) => !parsed.engines.some((e) => e.unit === u));
  if (unknown.length > 0) throw new CmapssDataError(`no training engine ${unknown.join(', ')} in ${trainPath}`);
  const engines = parsed.engines.filter((e) => !excluded.has(e.unit));
  const file: CmapssFile = { ...parsed, engines, rows: engines.reduce((n, e) => n + e.cycles.length, 0) };
  const set = replayCmapss(file, TURBOFAN, opts.baseline);
  const hash = sha256(bytes);
  const trainingData =
    `NASA C-MAPSS train_FD001.txt (${file.engines.length} engines, ${file.rows} cycles` +
    (excluded.size > 0 ? `; engines ${[...excluded].sort((a, b) => a - b).join(',')} held out` : '') +
    '), replayed through the feature engine';

  const rounds = opts.maxRounds !== undefined ? { maxRounds: opts.maxRounds } : {};
  const rul = trainRulModel(set, { seed, ...rounds });
  const rulMetrics: Record<string, number> = { validRmse: rul.validRmse };
  const testPath = join(opts.dataDir, 'test_FD001.txt');
  const rulPath = join(opts.dataDir, 'RUL_FD001.txt');
  if (existsSync(testPath) && existsSync(rulPath)) {
    const test = replayCmapss(parseCmapss(readFileSync(testPath, 'utf8'), testPath), TURBOFAN, opts.baseline);
    const truth = parseRul(readFileSync(rulPath, 'utf8'), rulPath);
    if (truth.length === test.engines.length) {
      const pred = predictLastCycle(rul.modelJson, rul.featureNames, test);
      const capped = truth.map((t) => Math.min(t, RUL_CAP));
      rulMetrics.rmse = rmse(pred, capped);
      rulMetrics.nasaScore = nasaScore(pred, capped);
      rulMetrics.rmseUncapped = rmse(pred, truth);
    }
  }
  const failure = trainFailureModel(set, { seed, ...rounds });
  const rulArtifact: PredictorArtifact = {
    name: 'rul',
    kind: 'rul',
    rulCap: RUL_CAP,
    interval: rul.interval,
    modelJson: rul.modelJson,
    featureNames: rul.featureNames,
    metrics: rulMetrics,
    trainingDataHash: hash,
    trainingData,
    trainingRows: rul.trainingRows,
    params: rul.params,
  };
  const failureArtifact: PredictorArtifact = {
    name: 'failure',
    kind: 'failure',
    horizon: FAILURE_HORIZON,
    threshold: failure.threshold,
    modelJson: failure.modelJson,
    featureNames: failure.featureNames,
    metrics: failure.metrics,
    trainingDataHash: hash,
    trainingData,
    trainingRows: failure.trainingRows,
    params: failure.params,
  };
  const served = [...new Set([...rul.featureNames, ...failure.featureNames])];
  return {
    modelId: TURBOFAN.id,
    predictors: [rulArtifact, failureArtifact],
    trainingMatrix: turbofanTrainingMatrix(set, served, trainingData),
  };
}

export { nasaScore };
