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
import type { AssetModelPredictors, PredictorArtifact } from './types.ts';

/** 24 h in the model's clock units (ms). */
export const FAILURE_HORIZON_MS = 24 * HOUR_MS;
/** RUL target cap: 14 days in ms. */
export const RUL_CAP_MS = 14 * 24 * HOUR_MS;
/**
 * Validation: the last three weeks of the slice (rows ≥ this), fitted on rows ≤ it − 24 h. Used for early
 * stopping, the threshold and the reported metrics; the shipped model is then refitted on every row.
 */
export const VALID_FROM = Date.UTC(2015, 2, 11);

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
}

/** Why the `rul` predictor was or was not shipped, with the validation figures. */
export interface RulDecision {
  readonly shipped: boolean;
  readonly rmseHours: number;
  readonly baselineRmseHours: number;
  readonly reason: string;
}

interface Parts {
  readonly fit: Uint32Array;
  readonly valid: Uint32Array;
  readonly all: Uint32Array;
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
  const scores = predictBatch(loadXgboostModel(stage1.toXgboostJson()), xValid, parts.valid.length);
  const cut = bestF1Threshold(scores, yValid);
  const at = metricsAt(scores, yValid, cut.threshold);
  const rounds = stage1.bestIteration + 1;
  const finalParams = { ...params, nRounds: rounds, earlyStoppingRounds: undefined };
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
    metrics: {
      prAuc: averagePrecision(scores, yValid),
      rocAuc: rocAuc(scores, yValid),
      f1: at.f1,
      precision: at.precision,
      recall: at.recall,
      validPositives: yValid.reduce((a, v) => a + v, 0),
      validRows: parts.valid.length,
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

/** As {@link trainIndustrialMachinePredictors}, also returning the RUL decision. */
export function trainIndustrialMachineWithReport(opts: IndustrialMachineOptions): {
  predictors: AssetModelPredictors;
  rul: RulDecision;
} {
  const seed = opts.seed ?? 0;
  const data = loadAzure(opts.dataDir);
  const d = buildAzureDesign(data);
  const columns = productFeatures(d.names);
  const parts: Parts = {
    fit: rowsWhere(d, (t) => t <= VALID_FROM - FAILURE_HORIZON_MS),
    valid: rowsWhere(d, (t) => t >= VALID_FROM),
    all: rowsWhere(d, () => true),
  };
  const common = {
    featureNames: columns,
    trainingDataHash: data.sha256,
    trainingData:
      'Azure PdM (Microsoft) machines 1–20, hourly telemetry 2015-01-01 06:00 → 2015-04-01 05:00, with PdM_maint ' +
      'replacements and PdM_failures labels, replayed through the feature engine',
    trainingRows: d.n,
  };
  const predictors: PredictorArtifact[] = AZURE_COMPONENTS.map((c) =>
    classifier(d, c, columns, parts, seed, common),
  );
  predictors.push(classifier(d, 'any', columns, parts, seed, common));
  const r = rul(d, columns, parts, seed, common);
  if (r.decision.shipped) predictors.push(r.artifact);
  return { predictors: { modelId: INDUSTRIAL_MACHINE.id, predictors }, rul: r.decision };
}

/**
 * Trains `failure-comp1`…`failure-comp4` (component-failure), `failure` (any component) and, when its
 * validation error is clearly better than a constant, `rul` (hours-to-failure in ms, capped at 14 days).
 */
export function trainIndustrialMachinePredictors(opts: IndustrialMachineOptions): AssetModelPredictors {
  return trainIndustrialMachineWithReport(opts).predictors;
}
