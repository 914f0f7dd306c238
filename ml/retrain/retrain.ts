/**
 * Retraining an asset model from the local history (`pdm retrain`, docs/models.md "Retrain from the
 * history"): the champion's predictors are trained again, with the champion's hyperparameters, on the
 * feature rows the runtime recorded, labelled by the history's repair/replacement messages
 * (`lambdas/core/history/labels.ts`). The observed time is split: train on the first 60 %, validation
 * (early stopping, calibration, thresholds) on the next 20 %, the last 20 % held out. The champion's
 * files are scored on the same held-out rows, so the gate compares like with like.
 *
 * No I/O: the history rows and the champion's files come in as values.
 */
import { createHash } from 'node:crypto';
import { defaultAlertPolicy } from '../../lambdas/core/alerts/policy.ts';
import { findAssetModel } from '../../lambdas/core/catalog/index.ts';
import { type AssetModel, downtimeHoursOf } from '../../lambdas/core/catalog/types.ts';
import type { TrainingMatrix } from '../../lambdas/core/drift/reference.ts';
import { featureNames } from '../../lambdas/core/features/index.ts';
import { type LabelledRow, labelRows, type TimeSplit, timeSplit } from '../../lambdas/core/history/labels.ts';
import { TrainingFeatureError } from '../../lambdas/core/history/training.ts';
import { loadXgboostModel, predictBatch } from '../../lambdas/core/model/index.ts';
import { defaultHealthPolicy } from '../../lambdas/core/twin/health.ts';
import { auc, type TrainParams, train } from '../gbdt/index.ts';
import { evaluationId } from '../registry/evaluations.ts';
import type { ComparedWith, Evaluation, VersionRecord } from '../registry/record.ts';
import { calibrateAll, chooseThresholds, type DecisionSeries, fitIsotonic } from '../train/decision.ts';
import { averagePrecision } from '../train/pump.ts';
import type { AssetModelPredictors, PredictorArtifact, PredictorKind } from '../train/types.ts';

const HOUR = 3_600_000;

/** Shares of the observed time span: validation starts at 60 %, the held-out slice at 80 %. */
export const SPLIT = { validAt: 0.6, testAt: 0.8 } as const;
/** Fewest labelled rows a training slice needs. */
export const MIN_TRAIN_ROWS = 200;
/** Failures (positive labels) each slice needs: train to learn, validation to calibrate, held-out to measure. */
export const MIN_POSITIVE_ROWS = 1;

/** The asset model or the history cannot be retrained at all (wrong clock, no rows, nothing learnable). */
export class RetrainInputError extends Error {
  override readonly name: string = 'RetrainInputError';
}

/** The history holds too few rows or failures for a predictor; says how many and what is needed. */
export class InsufficientHistoryError extends Error {
  override readonly name: string = 'InsufficientHistoryError';
}

export interface ChampionPredictor {
  readonly name: string;
  readonly kind: PredictorKind;
  readonly component?: string;
  readonly horizon?: number;
  readonly rulCap?: number;
  readonly featureNames: readonly string[];
  readonly threshold?: number;
  readonly calibration?: PredictorArtifact['calibration'];
  readonly alertThresholds?: PredictorArtifact['alertThresholds'];
  readonly interval?: PredictorArtifact['interval'];
  readonly metrics?: Readonly<Record<string, number>>;
  readonly trainingDataHash?: string;
  readonly trainingData?: string;
  readonly trainingRows?: number;
  readonly file: string;
}

export interface RetrainInput {
  readonly champion: VersionRecord;
  /** The champion's model file text (XGBoost JSON) by bundle path. */
  readonly championFile: (file: string) => string;
  readonly history: {
    readonly rows: readonly { assetId: string; seq: number; ts: number; vector: readonly (number | null)[] }[];
    readonly failures: ReadonlyMap<string, readonly number[]>;
    readonly observedUntil: ReadonlyMap<string, number>;
  };
  /** Where the history came from, for the version's record (`--data-dir` as given). */
  readonly dataDir: string;
  readonly log?: (line: string) => void;
}

export interface RetrainResult {
  readonly set: AssetModelPredictors;
  readonly evaluation: Evaluation;
  readonly comparedWith: ComparedWith;
  readonly source: Extract<VersionRecord['source'], { kind: 'retrain' }>;
  /** Per predictor: retrained, or kept with the reason. */
  readonly outcome: Readonly<Record<string, { retrained: boolean; reason?: string; trainRows?: number; positives?: number }>>;
}

const round = (v: number, digits = 4) => Number(v.toFixed(digits));

interface Slice {
  readonly x: Float32Array;
  readonly n: number;
  readonly y: Float32Array;
  readonly rows: readonly LabelledRow[];
}

function sliceOf(rows: readonly LabelledRow[], columns: readonly number[], label: 'failure' | 'rul', keep: (r: LabelledRow) => boolean): Slice {
  const chosen = rows.filter((r) => keep(r) && !Number.isNaN(r[label]));
  const f = columns.length;
  const x = new Float32Array(chosen.length * f);
  const y = new Float32Array(chosen.length);
  chosen.forEach((r, i) => {
    for (let j = 0; j < f; j++) {
      const v = r.vector[columns[j]!];
      x[i * f + j] = v === null || v === undefined || !Number.isFinite(v) ? Number.NaN : v;
    }
    y[i] = r[label];
  });
  return { x, n: chosen.length, y, rows: chosen };
}

function columnsOf(model: AssetModel, names: readonly string[]): number[] {
  const engine = featureNames(model);
  const at = new Map(engine.map((n, i) => [n, i]));
  const missing = names.filter((n) => !at.has(n));
  if (missing.length > 0) throw new TrainingFeatureError(`the champion reads feature(s) ${missing.slice(0, 5).join(', ')} the feature engine does not produce`);
  return names.map((n) => at.get(n)!);
}

/** The champion's hyperparameters as the trainer takes them (record values are numbers and strings). */
function paramsFrom(record: Readonly<Record<string, number | string>> | undefined): Partial<TrainParams> {
  const p = record ?? {};
  const num = (k: string) => (typeof p[k] === 'number' ? { [k]: p[k] } : {});
  return {
    ...num('nRounds'),
    ...num('eta'),
    ...num('maxDepth'),
    ...num('minChildWeight'),
    ...num('subsample'),
    ...num('colsampleBytree'),
    ...num('maxBin'),
    ...num('seed'),
    ...num('earlyStoppingRounds'),
    ...num('lambda'),
    ...num('gamma'),
    ...(typeof p.objective === 'string' ? { objective: p.objective as TrainParams['objective'] } : {}),
    ...(typeof p.evalMetric === 'string' ? { evalMetric: p.evalMetric as TrainParams['evalMetric'] } : {}),
  };
}

function paramsRecord(p: Partial<TrainParams>, trees: number): Record<string, number | string> {
  const out: Record<string, number | string> = { trainer: 'ml/gbdt', keptTrees: trees };
  for (const [k, v] of Object.entries(p)) if (typeof v === 'number' || typeof v === 'string') out[k] = v;
  return out;
}

function score(json: string, s: Slice): Float64Array {
  return predictBatch(loadXgboostModel(json), s.x, s.n);
}

function classifierMetrics(p: ArrayLike<number>, y: ArrayLike<number>): Record<string, number> {
  const positives = Array.from(y).reduce((a, v) => a + v, 0);
  return { prAuc: round(averagePrecision(p, y)), rocAuc: round(auc(p, y)), positives, testRows: y.length };
}

function rulMetrics(pred: ArrayLike<number>, y: ArrayLike<number>): Record<string, number> {
  let se = 0;
  let ae = 0;
  for (let i = 0; i < y.length; i++) {
    const err = (Math.max(0, pred[i]!) - y[i]!) / HOUR;
    se += err * err;
    ae += Math.abs(err);
  }
  return { rmseHours: round(Math.sqrt(se / y.length), 2), maeHours: round(ae / y.length, 2), testRows: y.length };
}

/** Distinct failures a slice's labels come from (rows with a known RUL below the cap end at one each). */
function failuresIn(rows: readonly LabelledRow[], cap: number): number {
  return new Set(rows.filter((r) => r.rul < cap).map((r) => `${r.assetId}@${r.ts + r.rul}`)).size;
}

function historyHash(assetModel: string, rows: readonly LabelledRow[]): string {
  const h = createHash('sha256');
  h.update(`pdm.history-training.v1 ${assetModel}\n`);
  const sorted = [...rows].sort((a, b) => (a.assetId < b.assetId ? -1 : a.assetId > b.assetId ? 1 : a.ts - b.ts));
  for (const r of sorted) h.update(`${r.assetId},${r.ts},${r.failure},${r.rul},${JSON.stringify(r.vector)}\n`);
  return h.digest('hex');
}

/** Validation series per asset for the threshold choice: calibrated probabilities in time order. */
function seriesOf(rows: readonly LabelledRow[], p: ArrayLike<number>, failures: ReadonlyMap<string, readonly number[]>): DecisionSeries[] {
  const byAsset = new Map<string, { t: number[]; p: number[] }>();
  rows.forEach((r, i) => {
    const s = byAsset.get(r.assetId) ?? { t: [], p: [] };
    s.t.push(r.ts);
    s.p.push(p[i]!);
    byAsset.set(r.assetId, s);
  });
  return [...byAsset].map(([key, s]) => {
    const order = s.t.map((_, i) => i).sort((a, b) => s.t[a]! - s.t[b]!);
    return { key, t: order.map((i) => s.t[i]!), p: order.map((i) => s.p[i]!), failures: [...(failures.get(key) ?? [])] };
  });
}

function need(what: string, have: number, needed: number, name: string): void {
  if (have < needed) {
    throw new InsufficientHistoryError(`${name}: ${what}: ${have}, needs at least ${needed}`);
  }
}

/** Retrains the champion's predictors on the history; throws when none of them can be. */
export function retrainFromHistory(input: RetrainInput): RetrainResult {
  const log = input.log ?? (() => {});
  const { champion } = input;
  const model = findAssetModel(champion.assetModel);
  if (!model) throw new RetrainInputError(`unknown asset model "${champion.assetModel}"`);
  if (model.clock !== 'time') {
    throw new RetrainInputError(`${model.id} runs on a cycle clock: its failures are run ends, not maintenance messages; retrain it with pdm train`);
  }
  const predictors = champion.entry.predictors as unknown as readonly ChampionPredictor[];
  const failureP = predictors.find((p) => p.kind === 'failure');
  const rulP = predictors.find((p) => p.kind === 'rul');
  const horizon = failureP?.horizon ?? 24 * HOUR;
  const cap = rulP?.rulCap ?? 14 * 24 * HOUR;
  const engineLength = featureNames(model).length;
  const rows = labelRows(
    { rows: input.history.rows, failures: input.history.failures, observedUntil: input.history.observedUntil, horizonMs: horizon, rulCapMs: cap },
    engineLength,
  );
  if (rows.length === 0) {
    throw new RetrainInputError(`the history in ${input.dataDir} has no feature rows of ${model.id} with a feature vector`);
  }
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    first = Math.min(first, r.ts);
    last = Math.max(last, r.ts);
  }
  const split: TimeSplit = timeSplit(first, last, { ...SPLIT, purgeMs: horizon });
  const hash = historyHash(model.id, rows);
  const failureCount = [...input.history.failures.values()].reduce((a, f) => a + f.length, 0);
  log(
    `${model.id}: ${rows.length} rows over ${((last - first) / (24 * HOUR)).toFixed(1)} days, ${failureCount} repair/replacement messages; ` +
      `held out from ${new Date(split.testFrom).toISOString()}`,
  );
  const inTrain = (r: LabelledRow) => r.ts < split.trainUntil;
  const inValid = (r: LabelledRow) => r.ts >= split.validFrom && r.ts < split.validUntil;
  const inTest = (r: LabelledRow) => r.ts >= split.testFrom;
  const description = `local history ${input.dataDir}: ${rows.length} feature rows of ${model.id}, labels from repair/replacement messages (failure within ${horizon / HOUR} h, RUL capped at ${cap / HOUR} h)`;

  const artifacts: PredictorArtifact[] = [];
  const challengerMetrics: Record<string, number> = {};
  const championMetrics: Record<string, number> = {};
  const kept: Record<string, string> = {};
  const outcome: Record<string, { retrained: boolean; reason?: string; trainRows?: number; positives?: number }> = {};
  let matrix: TrainingMatrix | undefined;

  const keep = (p: ChampionPredictor, reason: string, measured: Record<string, number>) => {
    kept[p.name] = reason;
    outcome[p.name] = { retrained: false, reason };
    log(`  ${p.name}: kept ${champion.id}'s model: ${reason}`);
    artifacts.push({
      name: p.name,
      kind: p.kind,
      ...(p.component !== undefined ? { component: p.component } : {}),
      ...(p.horizon !== undefined ? { horizon: p.horizon } : {}),
      ...(p.rulCap !== undefined ? { rulCap: p.rulCap } : {}),
      modelJson: input.championFile(p.file),
      featureNames: p.featureNames,
      ...(p.threshold !== undefined ? { threshold: p.threshold } : {}),
      ...(p.calibration !== undefined ? { calibration: p.calibration } : {}),
      ...(p.alertThresholds !== undefined ? { alertThresholds: p.alertThresholds } : {}),
      ...(p.interval !== undefined ? { interval: p.interval } : {}),
      metrics: measured,
      trainingDataHash: p.trainingDataHash ?? 'unknown',
      trainingData: `${p.trainingData ?? ''} (kept from ${champion.id})`,
      trainingRows: p.trainingRows ?? 0,
      params: { ...(champion.params[p.name] ?? {}), retrain: `kept ${champion.id}` },
    });
  };

  for (const p of predictors) {
    const columns = columnsOf(model, p.featureNames);
    const championJson = input.championFile(p.file);
    if (p.kind === 'component-failure') {
      keep(p, 'component labels need the component of each repair, which the labelling rule does not read yet', {});
      continue;
    }
    const label = p.kind === 'rul' ? 'rul' : 'failure';
    const tr = sliceOf(rows, columns, label, inTrain);
    const va = sliceOf(rows, columns, label, inValid);
    const te = sliceOf(rows, columns, label, inTest);
    // What both models can be measured on, even when the challenger cannot be trained.
    const measurable = label === 'failure' ? te.y.some((v) => v === 1) : failuresIn(te.rows, cap) >= MIN_POSITIVE_ROWS;
    const championOnTest = measurable && te.n > 0 ? (label === 'failure' ? classifierMetrics(score(championJson, te), te.y) : rulMetrics(score(championJson, te), te.y)) : {};
    try {
      need('labelled training rows', tr.n, MIN_TRAIN_ROWS, p.name);
      if (label === 'failure') {
        const pos = (s: Slice) => s.y.reduce((a, v) => a + v, 0);
        need('positive training rows (a repair/replacement within the horizon)', pos(tr), MIN_POSITIVE_ROWS, p.name);
        need('positive validation rows', pos(va), MIN_POSITIVE_ROWS, p.name);
        need('positive held-out rows', pos(te), MIN_POSITIVE_ROWS, p.name);
      } else {
        need('failures before training rows (uncensored RUL below the cap)', failuresIn(tr.rows, cap), MIN_POSITIVE_ROWS, p.name);
        need('failures after validation rows', failuresIn(va.rows, cap), MIN_POSITIVE_ROWS, p.name);
        need('failures after held-out rows', failuresIn(te.rows, cap), MIN_POSITIVE_ROWS, p.name);
      }
    } catch (e) {
      if (!(e instanceof InsufficientHistoryError)) throw e;
      keep(p, e.message, championOnTest);
      for (const [k, v] of Object.entries(championOnTest)) {
        challengerMetrics[`${p.name}.${k}`] = v;
        championMetrics[`${p.name}.${k}`] = v;
      }
      continue;
    }
    const names = [...p.featureNames];
    const f = names.length;
    const base = paramsFrom(champion.params[p.name]);
    let artifact: PredictorArtifact;
    if (label === 'failure') {
      const params: Partial<TrainParams> = { objective: 'binary:logistic', evalMetric: 'logloss', ...base };
      const booster = train(params, { x: tr.x, n: tr.n, f, y: tr.y, featureNames: names }, { x: va.x, n: va.n, f, y: va.y, featureNames: names });
      const json = booster.toXgboostJson();
      const validRaw = score(json, va);
      const calibration = fitIsotonic(validRaw, va.y);
      const validP = calibrateAll(calibration, validRaw);
      const decision = chooseThresholds(seriesOf(va.rows, validP, input.history.failures), {
        health: defaultHealthPolicy('time'),
        alert: defaultAlertPolicy('time', model.downtimeCostPerHour),
        downtime: downtimeHoursOf(model),
        horizon,
        describe: `validation slice of the local history, ${new Date(split.validFrom).toISOString()} → ${new Date(split.validUntil).toISOString()}`,
      });
      const m = classifierMetrics(score(json, te), te.y);
      artifact = {
        name: p.name,
        kind: p.kind,
        horizon,
        modelJson: json,
        featureNames: names,
        threshold: decision.thresholds.warning,
        calibration,
        alertThresholds: decision.thresholds,
        metrics: m,
        trainingDataHash: hash,
        trainingData: description,
        trainingRows: tr.n,
        params: paramsRecord(params, booster.trees.length),
      };
      outcome[p.name] = { retrained: true, trainRows: tr.n, positives: tr.y.reduce((a, v) => a + v, 0) };
      log(`  ${p.name}: ${booster.trees.length} trees on ${tr.n} rows; held out ${JSON.stringify(m)}; ${champion.id} ${JSON.stringify(championOnTest)}`);
    } else {
      const mean = tr.y.reduce((a, v) => a + v, 0) / tr.n;
      const params: Partial<TrainParams> = { objective: 'reg:squarederror', ...base, baseScore: Math.fround(mean) };
      const booster = train(params, { x: tr.x, n: tr.n, f, y: tr.y, featureNames: names }, { x: va.x, n: va.n, f, y: va.y, featureNames: names });
      const json = booster.toXgboostJson();
      const m = rulMetrics(score(json, te), te.y);
      artifact = {
        name: p.name,
        kind: 'rul',
        rulCap: cap,
        modelJson: json,
        featureNames: names,
        metrics: m,
        trainingDataHash: hash,
        trainingData: description,
        trainingRows: tr.n,
        params: paramsRecord(params, booster.trees.length),
      };
      outcome[p.name] = { retrained: true, trainRows: tr.n, positives: failuresIn(tr.rows, cap) };
      log(`  ${p.name}: ${booster.trees.length} trees on ${tr.n} rows; held out ${JSON.stringify(m)}; ${champion.id} ${JSON.stringify(championOnTest)}`);
    }
    artifacts.push(artifact);
    for (const [k, v] of Object.entries(artifact.metrics)) challengerMetrics[`${p.name}.${k}`] = v;
    for (const [k, v] of Object.entries(championOnTest)) championMetrics[`${p.name}.${k}`] = v;
    if (!matrix) {
      // The drift reference: every training-slice row, in the first retrained predictor's columns, with
      // its asset and time so the watched features pass the same own-window check as the trainers'.
      const all = sliceOf(rows, columns, label, (r) => inTrain(r));
      const ids = new Map<string, number>();
      const asset = Int32Array.from(all.rows, (r) => {
        let id = ids.get(r.assetId);
        if (id === undefined) ids.set(r.assetId, (id = ids.size));
        return id;
      });
      const keys = { asset, t: Float64Array.from(all.rows, (r) => r.ts) };
      matrix = { names, x: all.x, n: all.n, source: `${description}: training slice`, keys };
    }
  }
  if (Object.keys(kept).length === predictors.length) {
    throw new InsufficientHistoryError(
      `nothing of ${model.id} could be retrained from ${input.dataDir}: ${Object.entries(kept)
        .map(([n, why]) => `${n}: ${why.replace(`${n}: `, '')}`)
        .join('; ')}`,
    );
  }
  const evalKey = { data: hash, testFrom: split.testFrom, last, horizon, rulCap: cap };
  const evaluation: Evaluation = {
    id: evaluationId(model.id, 'history-held-out', evalKey),
    name: 'history-held-out',
    kind: 'held-out',
    description: `the last ${Math.round((1 - SPLIT.testAt) * 100)} % of the observed time of ${input.dataDir} (rows from ${new Date(split.testFrom).toISOString()}), labels from its repair/replacement messages`,
    metrics: challengerMetrics,
  };
  return {
    set: { modelId: model.id, predictors: artifacts, ...(matrix ? { trainingMatrix: matrix } : {}) },
    evaluation,
    comparedWith: { version: champion.id, evaluation: evaluation.id, metrics: championMetrics },
    source: {
      kind: 'retrain',
      dataDir: input.dataDir,
      from: champion.id,
      historyHash: hash,
      split: { first, trainUntil: split.trainUntil, validFrom: split.validFrom, validUntil: split.validUntil, testFrom: split.testFrom, last },
      kept,
    },
    outcome,
  };
}
