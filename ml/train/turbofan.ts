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
  cmapssCycleTs,
  engineEvents,
  parseCmapss,
  parseRul,
} from '../datasets/cmapss.ts';
import { replayFeatures } from '../features/replay.ts';
import { auc, type TrainParams, train } from '../gbdt/index.ts';
import { Rng } from '../gbdt/rng.ts';
import type { RulInterval } from '../../lambdas/core/model/interval.ts';
import { averageBoostersJson } from './bagging.ts';
import { fitRulInterval } from './conformal.ts';
import { calibrateAll, chooseThresholds, fitIsotonic } from './decision.ts';
import type { AlertThresholds, Calibration } from '../../lambdas/core/model/decision.ts';
import { downtimeHoursOf } from '../../lambdas/core/catalog/types.ts';
import { defaultAlertPolicy } from '../../lambdas/core/alerts/policy.ts';
import { defaultHealthPolicy } from '../../lambdas/core/twin/health.ts';
import { defaultRiskPolicy } from '../../lambdas/core/twin/twin.ts';
import type { AssetModelPredictors, PredictorArtifact } from './types.ts';
import type { TrainingMatrix } from '../../lambdas/core/drift/reference.ts';

/** Cap of the piecewise-linear RUL target (Li et al. 2018 and most later work). */
export const RUL_CAP = 125;
/** Horizon of the failure classifier, in cycles. */
export const FAILURE_HORIZON = 30;
/** Share of training engines held out for early stopping and model choice (the failure classifier). */
export const VALID_FRACTION = 0.2;
/**
 * Engine folds of the RUL trainer: fold 0 stops the boosting, and the K fold models are averaged into
 * the served model and calibrate its interval out of fold (docs/cmapss.md, "Cross-fitting").
 */
export const RUL_FOLDS = 5;
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

function shuffled(units: readonly number[], seed: number): number[] {
  const order = [...units];
  const rng = new Rng(seed * 7919 + 13);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Shuffles units with a seeded generator and holds out `fraction` of them (at least one). */
export function splitUnits(
  units: readonly number[],
  fraction: number,
  seed: number,
): { train: Set<number>; valid: Set<number> } {
  const order = shuffled(units, seed);
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
  /** Rounds of the early-stopped model (trained without fold 0, stopped on fold 0). */
  readonly bestRounds: number;
  /** Trees of each served booster (with `ensemble: 'folds'`, every fold model has this many). */
  readonly rounds: number;
  /** RMSE of the early-stopped model on fold-0 rows whose true RUL ≤ 145 (the test range). */
  readonly validRmse: number;
  /** Fold 0: the engines early stopping chose the round count on. */
  readonly validUnits: readonly number[];
  /**
   * The 90 % split-conformal interval. With `ensemble: 'folds'` (the default): cross-conformal, from the
   * out-of-fold residuals of folds 1…K−1, each scored by the fold model that never saw it, with a round
   * count chosen on fold 0, so no calibration engine took part in any choice of the model that scored it.
   * Otherwise from the early-stopped model's residuals on fold 0 (the engines it stopped on).
   */
  readonly interval: RulInterval;
  /** Engines whose residuals the interval holds. */
  readonly calibrationUnits: readonly number[];
  readonly trainingRows: number;
  readonly params: Readonly<Record<string, number | string>>;
}

/** How the served RUL model is built after early stopping. */
export type RulEnsemble =
  /** The mean of the K fold models (each fitted without one fold), written as one XGBoost model. */
  | 'folds'
  /** One model refitted on all engines with {@link REFIT_ROUNDS_SCALE} × the best round count. */
  | 'refit'
  /** The early-stopped model itself. */
  | 'none';

/** Options of {@link trainRulModel}. */
export interface RulTrainOptions {
  /** Seeds the folds and the row/column sampling. @default 1 */
  readonly seed?: number;
  /** Early-stopping ceiling. @default RUL_PARAMS.nRounds (6000) */
  readonly maxRounds?: number;
  /** @default RUL_CAP (125) */
  readonly cap?: number;
  /** @default 'folds' */
  readonly ensemble?: RulEnsemble;
  /** Engine folds (fold 0 is the early-stopping fold). @default RUL_FOLDS (5) */
  readonly folds?: number;
  /**
   * Calibration rows: `'all'` every cycle, `'uncensored'` only cycles whose true RUL is below the cap.
   * On judge engines held out from the trainer, 'uncensored' covered less (docs/cmapss.md). @default 'all'
   */
  readonly calibrateOn?: 'all' | 'uncensored';
  /** Model inputs. @default selectRulFeatures(set) */
  readonly features?: readonly string[];
  /** Overrides of {@link RUL_PARAMS} (for model-choice experiments on validation engines). @default none */
  readonly params?: Readonly<Partial<TrainParams>>;
}

/**
 * Cuts the units into `k` seeded folds of near-equal size. Fold 0 equals `splitUnits(units, 1 / k, seed).valid`
 * when `k` divides the count, so the early-stopping engines are those of the single-split trainer.
 */
export function foldUnits(units: readonly number[], k: number, seed: number): number[][] {
  if (!Number.isInteger(k) || k < 2 || k > units.length) {
    throw new CmapssDataError(`${units.length} engines cannot be cut into ${k} folds (need 2 ≤ folds ≤ engines)`);
  }
  const order = shuffled(units, seed);
  return Array.from({ length: k }, (_, i) =>
    order.slice(Math.round((i * order.length) / k), Math.round(((i + 1) * order.length) / k)),
  );
}

/**
 * Trains the RUL regressor. Fold 0 of a seeded K-fold cut of the engines stops the boosting (best round
 * count); then, by default, K fold models with that round count, each fitted without one fold, are
 * averaged into the served model (bagging over folds), and their out-of-fold residuals on folds 1…K−1
 * calibrate the interval (cross-conformal). Both choices were made on training engines held out from
 * the whole trainer, never on test engines (docs/cmapss.md).
 */
export function trainRulModel(set: ReplayedSet, opts: RulTrainOptions = {}): RulModel {
  const seed = opts.seed ?? 1;
  const cap = opts.cap ?? RUL_CAP;
  const ensemble = opts.ensemble ?? 'folds';
  const uncensored = opts.calibrateOn === 'uncensored';
  const rows = uncensored ? `the cycles with true RUL below ${cap}` : 'every cycle';
  const k = opts.folds ?? RUL_FOLDS;
  const features = [...(opts.features ?? selectRulFeatures(set))];
  const label = (rul: number): number => Math.min(rul, cap);
  const folds = foldUnits(
    set.engines.map((e) => e.unit),
    k,
    seed,
  );
  const without = (i: number) => new Set(folds.filter((_, j) => j !== i).flat());
  const valid = new Set(folds[0]);
  const tr = matrix(set, without(0), features, label);
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
  let r = 0;
  for (const e of set.engines) {
    if (!valid.has(e.unit)) continue;
    const failCycle = e.cycles[e.cycles.length - 1]!;
    for (const c of e.cycles) {
      if (failCycle - c <= 145) {
        inRange.push(early.validMargins[r]!);
        truth.push(label(failCycle - c));
      }
      r++;
    }
  }
  const validRmse = rmse(inRange, truth);
  const { earlyStoppingRounds: _, ...fixed } = params;

  let modelJson: string;
  let rounds: number;
  let trainingRows: number;
  let interval: RulInterval;
  let calibrationUnits: number[];
  let how: string;
  if (ensemble === 'folds') {
    const boosters = [early];
    const calPred: number[] = [];
    const calTruth: number[] = [];
    // Together the fold models saw every engine.
    trainingRows = set.engines.reduce((s, e) => s + e.vectors.length, 0);
    for (let i = 1; i < k; i++) {
      const fit = matrix(set, without(i), features, label);
      // Each fold model samples differently, as bagged models should; the round count is fold 0's.
      const b = train(
        { ...fixed, nRounds: bestRounds, seed: seed * 1000 + i, baseScore: Math.round(mean(fit.y) * 100) / 100 },
        { ...fit, featureNames: [...features] },
      );
      boosters.push(b);
      const held = matrix(set, new Set(folds[i]), features, (rul) => rul);
      const p = predictBatch(loadXgboostModel(b.toXgboostJson()), held.x, held.n);
      for (let j = 0; j < held.n; j++) {
        if (uncensored && held.y[j]! >= cap) continue;
        calPred.push(Math.max(0, p[j]!));
        calTruth.push(label(held.y[j]!));
      }
    }
    calibrationUnits = folds.slice(1).flat();
    interval = fitRulInterval(
      calPred,
      calTruth,
      `cross-conformal: ${rows} of ${calibrationUnits.length} engines (folds 1–${k - 1} of ${k}, seed ${seed}), ` +
        `each scored by the fold model fitted without it; rounds chosen on fold 0; truth capped at ${cap}`,
    );
    modelJson = averageBoostersJson(boosters, features);
    rounds = bestRounds;
    how = `mean of ${k} fold models (each without one fold of engines), ${bestRounds} rounds each`;
  } else {
    const rawVa = matrix(set, valid, features, (rul) => rul).y;
    const keep = Array.from(rawVa, (_, j) => j).filter((j) => !uncensored || rawVa[j]! < cap);
    calibrationUnits = [...valid];
    interval = fitRulInterval(
      keep.map((j) => Math.max(0, early.validMargins[j]!)),
      keep.map((j) => va.y[j]!),
      `${rows} of the ${valid.size} early-stopping engines (seed ${seed}), early-stopped model, truth capped at ${cap}`,
    );
    let booster = early;
    trainingRows = tr.n;
    if (ensemble === 'refit') {
      const all = matrix(set, undefined, features, label);
      booster = train(
        { ...fixed, nRounds: Math.max(1, Math.round(bestRounds * REFIT_ROUNDS_SCALE)) },
        { ...all, featureNames: [...features] },
      );
      trainingRows = all.n;
    }
    modelJson = booster.toXgboostJson();
    rounds = booster.bestIteration + 1;
    how = ensemble === 'refit' ? `refit on all engines, ${REFIT_ROUNDS_SCALE} x best rounds` : 'early-stopped model';
  }
  return {
    modelJson,
    featureNames: features,
    bestRounds,
    rounds,
    validRmse,
    validUnits: [...valid].sort((a, b) => a - b),
    interval,
    calibrationUnits: calibrationUnits.sort((a, b) => a - b),
    trainingRows,
    params: paramRecord(params, {
      rulCap: cap,
      folds: k,
      bestRounds,
      rounds,
      ensemble: how,
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

/** A trained failure classifier with its validation metrics, calibration and alert thresholds. */
export interface FailureModel {
  readonly modelJson: string;
  readonly featureNames: readonly string[];
  readonly threshold: number;
  /** Raw output → probability, isotonic, fitted on the out-of-fold rows of `calibrationUnits`. */
  readonly calibration: Calibration;
  /** WATCH / WARNING / CRITICAL on the calibrated probability, chosen on the same rows. */
  readonly alertThresholds: AlertThresholds;
  /** Engines whose out-of-fold predictions the calibration and thresholds were fitted on. */
  readonly calibrationUnits: readonly number[];
  readonly metrics: Readonly<Record<string, number>>;
  readonly trainingRows: number;
  readonly params: Readonly<Record<string, number | string>>;
}

/**
 * Alert look-ahead the turbofan thresholds are chosen for: the held-out replay's false-alert horizon,
 * which is the twin's RUL horizon (local/replay/cmapss.ts).
 */
export const TURBOFAN_ALERT_HORIZON = defaultRiskPolicy('cycle').rulHorizon;

/**
 * Trains P(failure within `horizon` cycles): label 1 at cycle c when the engine failed at most `horizon`
 * cycles after c (known for run-to-failure training engines; point-in-time, the features only see ≤ c).
 * The model is the early-stopped one (fold 0 of {@link RUL_FOLDS} engine folds stops it), not refitted:
 * its threshold and ranking metrics are measured on engines it never trained on and describe exactly the
 * model that ships. Calibration and alert thresholds come from out-of-fold predictions on folds 1…K−1,
 * each scored by a model fitted without that fold with the early-stopped round count (more failures to
 * choose thresholds on than fold 0's), and the costs of the turbofan catalog entry.
 */
export function trainFailureModel(
  set: ReplayedSet,
  opts: { seed?: number; horizon?: number; maxRounds?: number; folds?: number } = {},
): FailureModel {
  const seed = opts.seed ?? 1;
  const horizon = opts.horizon ?? FAILURE_HORIZON;
  const k = opts.folds ?? RUL_FOLDS;
  const features = selectRulFeatures(set);
  const label = (rul: number): number => (rul <= horizon ? 1 : 0);
  const folds = foldUnits(
    set.engines.map((e) => e.unit),
    k,
    seed,
  );
  const without = (i: number) => new Set(folds.filter((_, j) => j !== i).flat());
  const valid = new Set(folds[0]);
  const tr = matrix(set, without(0), features, label);
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
  const rounds = booster.bestIteration + 1;

  const { earlyStoppingRounds: _, ...fixed } = params;
  const series: { unit: number; t: number[]; raw: number[]; failure: number }[] = [];
  const raw: number[] = [];
  const y: number[] = [];
  for (let i = 1; i < k; i++) {
    const fit = matrix(set, without(i), features, label);
    const m = train({ ...fixed, nRounds: rounds, seed: seed * 1000 + i }, { ...fit, featureNames: [...features] });
    const held = new Set(folds[i]);
    const out = matrix(set, held, features, label);
    const scores = predictBatch(loadXgboostModel(m.toXgboostJson()), out.x, out.n);
    let r = 0;
    // matrix() lays engines out in set order: walk the set the same way to cut the scores per engine.
    for (const e of set.engines) {
      if (!held.has(e.unit)) continue;
      const s = { unit: e.unit, t: [...e.cycles], raw: [] as number[], failure: e.cycles[e.cycles.length - 1]! + 1 };
      for (let c = 0; c < e.cycles.length; c++, r++) {
        s.raw.push(scores[r]!);
        raw.push(scores[r]!);
        y.push(out.y[r]!);
      }
      series.push(s);
    }
  }
  const calibration = fitIsotonic(raw, y);
  const calibrationUnits = series.map((s) => s.unit).sort((a, b) => a - b);
  const choice = chooseThresholds(
    series.map((s) => ({
      key: `cmapss-${s.unit}`,
      t: s.t,
      p: calibrateAll(calibration, s.raw),
      // The engine is lost after its last recorded cycle.
      failures: [s.failure],
    })),
    {
      health: defaultHealthPolicy('cycle'),
      alert: defaultAlertPolicy('cycle', TURBOFAN.downtimeCostPerHour),
      downtime: downtimeHoursOf(TURBOFAN),
      horizon: TURBOFAN_ALERT_HORIZON,
      describe:
        `out-of-fold cycles of ${calibrationUnits.length} training engines (folds 1–${k - 1} of ${k}, seed ${seed}, ` +
        'each scored by a model fitted without its fold)',
    },
  );
  return {
    modelJson,
    featureNames: features,
    threshold,
    calibration,
    alertThresholds: choice.thresholds,
    calibrationUnits,
    metrics: {
      prAuc: averagePrecision(p, va.y),
      rocAuc: auc(p, va.y),
      f1,
      validRows: va.n,
      calibrationRows: raw.length,
      validFailures: choice.warning.failures,
      validFailuresCaught: choice.warning.caught,
      validAlerts: choice.warning.alerts,
      validFalseAlerts: choice.warning.falseAlerts,
    },
    trainingRows: tr.n,
    params: paramRecord(params, {
      horizon,
      folds: k,
      rounds,
    }),
  };
}

/**
 * The rows the turbofan predictors train on: every cycle of every engine (the RUL model is refitted on
 * all of them; the failure classifier's engines are a subset), the columns either reads.
 */
export function turbofanTrainingMatrix(set: ReplayedSet, features: readonly string[], source: string): TrainingMatrix {
  const m = matrix(set, undefined, features, () => 0);
  // Same row order as matrix(): engines in set order, each engine's cycles in order.
  const asset = new Int32Array(m.n);
  const t = new Float64Array(m.n);
  let r = 0;
  for (const e of set.engines) {
    for (const cycle of e.cycles) {
      asset[r] = e.unit;
      t[r++] = cmapssCycleTs(cycle);
    }
  }
  return { names: [...features], x: m.x, n: m.n, source: `${source}: every cycle of every engine`, keys: { asset, t } };
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
    calibration: failure.calibration,
    alertThresholds: failure.alertThresholds,
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
