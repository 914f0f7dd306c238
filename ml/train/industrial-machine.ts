/**
 * Failure predictors of the `industrial-machine` asset model, trained on the Azure PdM slice replayed
 * through the product's feature code (so the models see exactly the served vectors). Only the feature
 * engine's outputs are used: PdM_errors is not part of the telemetry contract.
 */
import { INDUSTRIAL_MACHINE } from '../../lambdas/core/catalog/models.ts';
import { loadXgboostModel, predictBatch } from '../../lambdas/core/model/index.ts';
import {
  AZURE_COMPONENTS,
  type AzureDesign,
  type AzureTarget,
  buildAzureDesign,
  designMatrix,
  HOUR_MS,
  loadAzure,
  rowsWhere,
} from '../datasets/azure.ts';
import { averagePrecision, bestF1Threshold, metricsAt, rocAuc } from '../evaluate/metrics.ts';
import { AZURE_PARAMS, productFeatures } from '../evaluate/azure.ts';
import { type TrainParams, train } from '../gbdt/index.ts';
import { calibrateAll, chooseThresholds, type DecisionSeries, fitIsotonic } from './decision.ts';
import type { AssetModelPredictors, PredictorArtifact } from './types.ts';
import type { TrainingMatrix } from '../../lambdas/core/drift/reference.ts';
import { downtimeHoursOf } from '../../lambdas/core/catalog/types.ts';
import { defaultAlertPolicy } from '../../lambdas/core/alerts/policy.ts';
import { defaultHealthPolicy } from '../../lambdas/core/twin/health.ts';

/** 24 h in the model's clock units (ms). */
export const FAILURE_HORIZON_MS = 24 * HOUR_MS;
/** RUL target cap: 14 days in ms. */
export const RUL_CAP_MS = 14 * 24 * HOUR_MS;
/**
 * Validation: the last three weeks of the slice (rows ≥ this), fitted on rows ≤ it − 24 h. Used for early
 * stopping, the calibration, the alert thresholds and the reported metrics; the shipped model is then
 * refitted on every row.
 */
export const VALID_FROM = Date.UTC(2015, 2, 11);
/** Length of the validation window before a `trainUntil` cut (the same three weeks). */
export const VALID_DAYS = 21;
/** Alert look-ahead the thresholds are chosen for: the replay's scoring horizon. */
export const ALERT_HORIZON_MS = 72 * HOUR_MS;
/**
 * Calibration and thresholds are fitted on out-of-fold predictions: the training period is cut into
 * segments of this many days, counted back from its end, and each segment is scored by a model fitted
 * only on the hours before it (24 h earlier, so no label looks into it). Three weeks of validation held
 * a handful of failures per component; forward-chaining folds give the thresholds several times more.
 */
export const FOLD_DAYS = 14;
/** A fold needs at least this many days of hours before it to fit on. */
export const MIN_FIT_DAYS = 14;
/** Days of data a cut needs before it: one fold and its fit, or the validation window, plus a margin. */
export const MIN_TRAIN_DAYS = Math.max(VALID_DAYS, MIN_FIT_DAYS + FOLD_DAYS) + 2;

/**
 * RUL is shipped only when its validation RMSE beats predicting the training mean by this factor:
 * a capped RUL that is barely better than a constant would look precise on the dashboard and mean little.
 */
export const RUL_MIN_IMPROVEMENT = 0.8;

export interface IndustrialMachineOptions {
  /** Directory holding the PdM_*.csv files. */
  readonly dataDir: string;
  /** Trainer seed (no sampling is used, so it only matters if parameters change). @default 0 */
  readonly seed?: number;
  /**
   * Train on data up to this time only (epoch ms): rows whose 24 h label window ends by it, so no label
   * looks past the cut; validation is the last three weeks before it. @default the whole slice
   */
  readonly trainUntil?: number;
}

/** Why the `rul` predictor was or was not shipped, with the validation figures. */
export interface RulDecision {
  readonly shipped: boolean;
  readonly rmseHours: number;
  readonly baselineRmseHours: number;
  readonly reason: string;
}

export interface Fold {
  readonly fit: Uint32Array;
  readonly valid: Uint32Array;
}

export interface Parts {
  readonly fit: Uint32Array;
  readonly valid: Uint32Array;
  readonly all: Uint32Array;
  /** Forward-chaining folds for out-of-fold calibration and thresholds, oldest first. */
  readonly folds: readonly Fold[];
  /** Replacements (maintenance and failures) per machine and component, for the threshold simulation. */
  readonly resets: ReadonlyMap<string, readonly number[]>;
  readonly validDescription: string;
}

/** Per machine, the given rows in time order with their calibrated probabilities of `target`. */
function validationSeries(
  d: AzureDesign,
  target: AzureTarget,
  parts: Parts,
  rows: Uint32Array,
  p: Float64Array,
): DecisionSeries[] {
  const byMachine = new Map<number, { t: number[]; p: number[] }>();
  rows.forEach((row, i) => {
    const m = d.machine[row]!;
    let s = byMachine.get(m);
    if (!s) byMachine.set(m, (s = { t: [], p: [] }));
    s.t.push(d.t[row]!);
    s.p.push(p[i]!);
  });
  const out: DecisionSeries[] = [];
  for (const [m, s] of byMachine) {
    const failures = d.failures.filter((f) => f.machineId === m && (target === 'any' || f.what === target)).map((f) => f.ts);
    const resets = target === 'any' ? failures : (parts.resets.get(`${m}|${target}`) ?? failures);
    out.push({ key: `machine-${m}`, t: s.t, p: s.p, failures, resets });
  }
  return out;
}

function classifier(
  d: AzureDesign,
  target: AzureTarget,
  columns: readonly string[],
  parts: Parts,
  seed: number,
  common: Omit<PredictorArtifact, 'name' | 'kind' | 'modelJson' | 'metrics' | 'threshold' | 'params'>,
): PredictorArtifact {
  const f = columns.length;
  const lab = d.labels[target];
  const y = (rows: Uint32Array) => Float32Array.from(rows, (r) => lab[r]!);
  const xValid = designMatrix(d, parts.valid, columns);
  const yValid = y(parts.valid);
  const params: Partial<TrainParams> = { ...AZURE_PARAMS, seed };
  const stage1 = train(
    params,
    { x: designMatrix(d, parts.fit, columns), n: parts.fit.length, f, y: y(parts.fit) },
    { x: xValid, n: parts.valid.length, f, y: yValid },
  );
  const rounds = stage1.bestIteration + 1;
  const finalParams = { ...params, nRounds: rounds, earlyStoppingRounds: undefined };
  // Out-of-fold scores over the folds (each from a model that never saw its fold), with the rounds
  // early stopping chose on the last three weeks.
  const oofRows = Uint32Array.from(parts.folds.flatMap((fold) => [...fold.valid]));
  const scores = new Float64Array(oofRows.length);
  let o = 0;
  for (const fold of parts.folds) {
    const model = train(finalParams, { x: designMatrix(d, fold.fit, columns), n: fold.fit.length, f, y: y(fold.fit) });
    scores.set(predictBatch(loadXgboostModel(model.toXgboostJson()), designMatrix(d, fold.valid, columns), fold.valid.length), o);
    o += fold.valid.length;
  }
  const yOof = y(oofRows);
  const cut = bestF1Threshold(scores, yOof);
  const at = metricsAt(scores, yOof, cut.threshold);
  // Calibration and alert thresholds on out-of-fold predictions inside the training period.
  const calibration = fitIsotonic(scores, yOof);
  const decision = chooseThresholds(validationSeries(d, target, parts, oofRows, calibrateAll(calibration, scores)), {
    health: defaultHealthPolicy('time'),
    alert: defaultAlertPolicy('time', INDUSTRIAL_MACHINE.downtimeCostPerHour),
    downtime: downtimeHoursOf(INDUSTRIAL_MACHINE),
    horizon: ALERT_HORIZON_MS,
    describe: parts.validDescription,
  });
  const booster = train(finalParams, {
    x: designMatrix(d, parts.all, columns),
    n: parts.all.length,
    f,
    y: y(parts.all),
    featureNames: [...columns],
  });
  const component = target === 'any' ? undefined : target;
  return {
    ...common,
    name: component ? `failure-${component}` : 'failure',
    kind: component ? 'component-failure' : 'failure',
    ...(component ? { component } : {}),
    horizon: FAILURE_HORIZON_MS,
    modelJson: booster.toXgboostJson(),
    threshold: cut.threshold,
    calibration,
    alertThresholds: decision.thresholds,
    metrics: {
      prAuc: averagePrecision(scores, yOof),
      rocAuc: rocAuc(scores, yOof),
      f1: at.f1,
      precision: at.precision,
      recall: at.recall,
      validPositives: yOof.reduce((a, v) => a + v, 0),
      validRows: oofRows.length,
      validFailures: decision.warning.failures,
      validFailuresCaught: decision.warning.caught,
      validAlerts: decision.warning.alerts,
      validFalseAlerts: decision.warning.falseAlerts,
    },
    params: flatParams(finalParams),
  };
}

function flatParams(p: Partial<TrainParams>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(p)) if (typeof v === 'number' || typeof v === 'string') out[k] = v;
  return out;
}

function rul(
  d: AzureDesign,
  columns: readonly string[],
  parts: Parts,
  seed: number,
  common: Omit<PredictorArtifact, 'name' | 'kind' | 'modelJson' | 'metrics' | 'threshold' | 'params'>,
): { artifact: PredictorArtifact; decision: RulDecision } {
  const f = columns.length;
  const y = (rows: Uint32Array) => Float32Array.from(rows, (r) => Math.min(d.timeToFailure[r]!, RUL_CAP_MS));
  const yFit = y(parts.fit);
  const yValid = y(parts.valid);
  const mean = yFit.reduce((a, v) => a + v, 0) / yFit.length;
  // The target is in ms (the model's clock); start from its mean so early rounds are not spent on the offset.
  const params: Partial<TrainParams> = {
    objective: 'reg:squarederror',
    nRounds: 400,
    eta: 0.1,
    maxDepth: 4,
    earlyStoppingRounds: 40,
    baseScore: mean,
    seed,
  };
  const xValid = designMatrix(d, parts.valid, columns);
  const stage1 = train(
    params,
    { x: designMatrix(d, parts.fit, columns), n: parts.fit.length, f, y: yFit },
    { x: xValid, n: parts.valid.length, f, y: yValid },
  );
  const pred = predictBatch(loadXgboostModel(stage1.toXgboostJson()), xValid, parts.valid.length);
  let se = 0;
  let seBase = 0;
  let ae = 0;
  for (let i = 0; i < yValid.length; i++) {
    se += (pred[i]! - yValid[i]!) ** 2;
    seBase += (mean - yValid[i]!) ** 2;
    ae += Math.abs(pred[i]! - yValid[i]!);
  }
  const rmseHours = Math.sqrt(se / yValid.length) / HOUR_MS;
  const baselineRmseHours = Math.sqrt(seBase / yValid.length) / HOUR_MS;
  const shipped = rmseHours <= RUL_MIN_IMPROVEMENT * baselineRmseHours;
  const finalParams = { ...params, nRounds: stage1.bestIteration + 1, earlyStoppingRounds: undefined };
  const yAll = y(parts.all);
  const booster = train(
    { ...finalParams, baseScore: yAll.reduce((a, v) => a + v, 0) / yAll.length },
    { x: designMatrix(d, parts.all, columns), n: parts.all.length, f, y: yAll, featureNames: [...columns] },
  );
  return {
    artifact: {
      ...common,
      name: 'rul',
      kind: 'rul',
      rulCap: RUL_CAP_MS,
      modelJson: booster.toXgboostJson(),
      metrics: {
        rmseHours,
        maeHours: ae / yValid.length / HOUR_MS,
        baselineRmseHours,
        validRows: parts.valid.length,
      },
      params: flatParams(finalParams),
    },
    decision: {
      shipped,
      rmseHours,
      baselineRmseHours,
      reason: shipped
        ? `validation RMSE ${rmseHours.toFixed(1)} h vs ${baselineRmseHours.toFixed(1)} h for the training mean`
        : `validation RMSE ${rmseHours.toFixed(1)} h is not clearly better than the training mean's ${baselineRmseHours.toFixed(1)} h`,
    },
  };
}

export class TrainWindowError extends Error {
  override readonly name: string = 'TrainWindowError';
}

/**
 * Fit / validation / all rows. With a cut, every row used has its 24 h label window closed by the cut
 * (t ≤ cut − 24 h) and validation is the last {@link VALID_DAYS} days of that, fitted on rows a label
 * window earlier; without one, validation starts at {@link VALID_FROM}.
 */
export function splitParts(d: AzureDesign, data: ReturnType<typeof loadAzure>, trainUntil: number | undefined): Parts {
  const resets = new Map<string, number[]>();
  for (const e of [...data.maint, ...data.failures]) {
    const key = `${e.machineId}|${e.what}`;
    const list = resets.get(key);
    if (list) list.push(e.ts);
    else resets.set(key, [e.ts]);
  }
  const iso = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
  let first = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < d.n; i++) {
    first = Math.min(first, d.t[i]!);
    end = Math.max(end, d.t[i]!);
  }
  const last = trainUntil === undefined ? end : trainUntil - FAILURE_HORIZON_MS;
  const validFrom = trainUntil === undefined ? VALID_FROM : last - VALID_DAYS * 24 * HOUR_MS;
  const day = 24 * HOUR_MS;
  const folds: Fold[] = [];
  for (let hi = last; hi - FOLD_DAYS * day - FAILURE_HORIZON_MS - first >= MIN_FIT_DAYS * day; hi -= FOLD_DAYS * day) {
    const lo = hi - FOLD_DAYS * day;
    folds.unshift({
      fit: rowsWhere(d, (t) => t <= lo - FAILURE_HORIZON_MS),
      valid: rowsWhere(d, (t) => t > lo && t <= hi),
    });
  }
  const oofFrom = last - folds.length * FOLD_DAYS * day;
  const parts: Parts = {
    fit: rowsWhere(d, (t) => t <= validFrom - FAILURE_HORIZON_MS),
    valid: rowsWhere(d, (t) => t >= validFrom && t <= last),
    all: rowsWhere(d, (t) => t <= last),
    folds,
    resets,
    validDescription:
      `out-of-fold hours ${iso(oofFrom)} → ${iso(last)} (${folds.length} forward-chaining folds of ${FOLD_DAYS} days, each ` +
      `scored by a model fitted on the hours up to a day before it` +
      (trainUntil === undefined ? ')' : `; nothing after the ${iso(trainUntil)} cut)`),
  };
  if (parts.fit.length === 0 || parts.valid.length === 0 || folds.length === 0) {
    const when = trainUntil === undefined ? 'the data' : `--train-until ${new Date(trainUntil).toISOString()}`;
    throw new TrainWindowError(
      `${when} leaves ${parts.fit.length} fit rows, ${parts.valid.length} validation rows and ${folds.length} folds; ` +
        `training needs at least ${MIN_TRAIN_DAYS} days of data before the cut`,
    );
  }
  return parts;
}

/** The rows every industrial-machine predictor is refitted on (`parts.all`), the product's columns. */
export function industrialTrainingMatrix(d: AzureDesign, parts: Parts, columns: readonly string[], source: string): TrainingMatrix {
  const keys = { asset: Int32Array.from(parts.all, (i) => d.machine[i]!), t: Float64Array.from(parts.all, (i) => d.t[i]!) };
  return { names: [...columns], x: designMatrix(d, parts.all, columns), n: parts.all.length, source, keys };
}

/** The design, split and columns as the trainer builds them (no training), for recomputing a reference. */
export function industrialTrainingSet(dataDir: string, trainUntil?: number) {
  const data = loadAzure(dataDir);
  const d = buildAzureDesign(data);
  return { d, parts: splitParts(d, data, trainUntil), columns: productFeatures(d.names), hash: data.sha256 };
}

/** As {@link trainIndustrialMachinePredictors}, also returning the RUL decision. */
export function trainIndustrialMachineWithReport(opts: IndustrialMachineOptions): {
  predictors: AssetModelPredictors;
  rul: RulDecision;
} {
  const seed = opts.seed ?? 0;
  const data = loadAzure(opts.dataDir);
  const d = buildAzureDesign(data);
  const columns = productFeatures(d.names);
  const parts = splitParts(d, data, opts.trainUntil);
  const common = {
    featureNames: columns,
    trainingDataHash: data.sha256,
    trainingData:
      'Azure PdM (Microsoft) machines 1–20, hourly telemetry 2015-01-01 06:00 → ' +
      (opts.trainUntil === undefined
        ? '2015-04-01 05:00'
        : `${new Date(opts.trainUntil - FAILURE_HORIZON_MS).toISOString().slice(0, 16).replace('T', ' ')} (held out after)`) +
      ', with PdM_maint replacements and PdM_failures labels, replayed through the feature engine',
    trainingRows: parts.all.length,
  };
  const predictors: PredictorArtifact[] = AZURE_COMPONENTS.map((c) =>
    classifier(d, c, columns, parts, seed, common),
  );
  predictors.push(classifier(d, 'any', columns, parts, seed, common));
  const r = rul(d, columns, parts, seed, common);
  if (r.decision.shipped) predictors.push(r.artifact);
  return {
    predictors: {
      modelId: INDUSTRIAL_MACHINE.id,
      predictors,
      trainingMatrix: industrialTrainingMatrix(d, parts, columns, `${common.trainingData}: every training hour`),
    },
    rul: r.decision,
  };
}

/**
 * Trains `failure-comp1`…`failure-comp4` (component-failure), `failure` (any component) and, when its
 * validation error is clearly better than a constant, `rul` (hours-to-failure in ms, capped at 14 days).
 */
export function trainIndustrialMachinePredictors(opts: IndustrialMachineOptions): AssetModelPredictors {
  return trainIndustrialMachineWithReport(opts).predictors;
}
