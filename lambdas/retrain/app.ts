/**
 * The three functions of the retraining state machine, with their I/O injected (handlers in this
 * folder wire the SDK clients): export the training data from history, evaluate a trained model on
 * the held-out slice next to the deployed champion, register the version (and promote it when the
 * stage allows and the gate passes). docs/models.md, "Retraining pipeline", shows the whole flow.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import type { HistoryQueryEngine } from '../adapters/history.ts';
import type { SageMakerModelRegistry } from '../adapters/aws/model-registry.ts';
import { findAssetModel } from '../core/catalog/index.ts';
import { featureNames } from '../core/features/index.ts';
import { failureEvents, lastSampleTimes, trainingFeatures } from '../core/history/queries.ts';
import { type FailureEvent, parseVectorText, retrainingDataset, type TrainingFeatureRow } from '../core/history/training.ts';
import type { BundleManifest } from '../core/model/bundle.ts';
import { defaultAlertPolicy } from '../core/alerts/policy.ts';
import { downtimeHoursOf } from '../core/catalog/types.ts';
import type { AlertThresholds, Calibration } from '../core/model/decision.ts';
import { ConformalInputError, fitRulInterval } from '../core/model/fit-interval.ts';
import { rulBounds, type RulInterval } from '../core/model/interval.ts';
import { type CompiledModel, loadXgboostModel } from '../core/model/model.ts';
import { predictBatch } from '../core/model/predict.ts';
import { singleTarFile } from '../core/model/tar.ts';
import { type DecisionContext, fitRetrainDecision, parseSliceIndex, type RetrainDecision, servedClassifierMetrics } from '../core/retrain/decision.ts';
import { evaluateHoldout, type Holdout, HoldoutFormatError, type HoldoutMetrics, parseHoldoutCsv } from '../core/retrain/evaluate.ts';
import { defaultHealthPolicy } from '../core/twin/health.ts';
import { DEFAULT_GATE_TOLERANCES, type GateDecision, gateMetrics, type MetricMap } from '../core/retrain/gate-metrics.ts';
import { modelPackageGroupName, trainingJobName } from '../core/retrain/names.ts';
import { type Hyperparameters, retrainPlan } from '../core/retrain/plan.ts';

/** Environment of the retraining functions (set by lib/stacks/lifecycle-stack.ts). */
export const RETRAIN_ENV = {
  stage: 'PDM_STAGE',
  bucket: 'PDM_RETRAIN_BUCKET',
  workgroup: 'PDM_HISTORY_WORKGROUP',
  database: 'PDM_HISTORY_DATABASE',
  holdoutFraction: 'PDM_RETRAIN_HOLDOUT_FRACTION',
  image: 'PDM_XGBOOST_IMAGE',
  autoPromote: 'PDM_AUTO_PROMOTE',
} as const;

/** Where the functions write under the retraining bucket; the training role reads `data/` and writes `models/`. */
export const RETRAIN_PREFIX = { data: 'data', models: 'models', evaluations: 'evaluations' } as const;

const MS_PER_HOUR = 3_600_000;

export class RetrainInputError extends Error {
  override readonly name: string = 'RetrainInputError';
}

/** The execution's input: what `StartExecution`, the drift rule or the schedule passes. */
export const executionInputSchema = z.object({
  assetModel: z.string().min(1),
  /** Only these predictors. @default every eligible predictor of the asset model */
  predictors: z.array(z.string().min(1)).min(1).optional(),
  /** Epoch ms; history before it is ignored. @default 0 */
  fromMs: z.number().optional(),
  /** Why the run started: `drift`, `schedule` or `manual`. @default 'manual' */
  trigger: z.string().optional(),
});
export type ExecutionInput = z.infer<typeof executionInputSchema>;

const exportEventSchema = z.object({
  input: executionInputSchema,
  executionName: z.string().min(1),
  /** ISO time the execution started (`$$.Execution.StartTime`). */
  startedAt: z.string().min(1),
});
export type ExportEvent = z.infer<typeof exportEventSchema>;

function parse<T>(schema: z.ZodType<T>, event: unknown, what: string): T {
  const r = schema.safeParse(event);
  if (!r.success) throw new RetrainInputError(`${what}: ${r.error.issues.map((i) => `${i.path.join('.') || '(event)'} ${i.message}`).join('; ')}`);
  return r.data;
}

/** One predictor's training job, as the state machine's Map iterates it. */
export interface TrainingJobSpec {
  readonly assetModel: string;
  readonly predictor: string;
  readonly group: string;
  readonly jobName: string;
  readonly task: 'binary' | 'regression';
  /** `s3://bucket/data/<job>/train/`: the job's train channel (one CSV, label first, no header). */
  readonly trainUri: string;
  /** `s3://bucket/models`: SageMaker writes `<it>/<job>/output/model.tar.gz`. */
  readonly outputUri: string;
  readonly holdoutKey: string;
  /** Index (asset and time of each holdout row, the target's failures) for the held-out alert figures. */
  readonly holdoutIndexKey: string;
  /** Validation CSV (same format): the new model's calibration and alert thresholds are fitted on it. */
  readonly validationKey: string;
  readonly validationIndexKey: string;
  readonly hyperparameters: Hyperparameters;
  readonly trainRows: number;
  readonly validationRows: number;
  readonly holdoutRows: number;
  /** ISO time the validation slice starts (training rows are before it). */
  readonly validFrom: string;
  /** ISO time the holdout starts. */
  readonly cut: string;
}

export interface ExportResult {
  readonly assetModel: string;
  readonly trigger: string;
  readonly jobs: readonly TrainingJobSpec[];
  readonly skipped: readonly { readonly predictor: string; readonly reason: string }[];
}

export interface ExportDeps {
  readonly engine: HistoryQueryEngine;
  readonly putObject: (key: string, body: string) => Promise<void>;
  readonly bucket: string;
  readonly stage: string;
  readonly manifest: BundleManifest;
  readonly holdoutFraction: number;
}

const toMs = (v: unknown): number => (typeof v === 'string' ? Date.parse(v) : Number(v));

/**
 * Reads the asset model's features, repairs/replacements and last sample times from history once,
 * then writes one train CSV and one holdout CSV per eligible predictor of the deployed bundle.
 * A predictor whose data cannot be split (too little history) is skipped with the reason, not fatal.
 */
export async function exportTrainingData(event: unknown, deps: ExportDeps): Promise<ExportResult> {
  const { input, executionName, startedAt } = parse(exportEventSchema, event, 'export event');
  const e = { ...input, executionName, startedAt };
  const model = findAssetModel(e.assetModel);
  if (!model) throw new RetrainInputError(`unknown asset model "${e.assetModel}"`);
  const plan = retrainPlan(deps.manifest, model, e.predictors);
  const skipped = [...plan.skipped];
  const jobs: TrainingJobSpec[] = [];
  if (plan.predictors.length > 0) {
    const from = e.fromMs ?? 0;
    const f = trainingFeatures('athena', model.id, from, Date.UTC(9999, 0, 1));
    const fe = failureEvents(model.id, from);
    const l = lastSampleTimes(model.id);
    const [featureRows, failureRows, lastRows] = await Promise.all([deps.engine.query(f.sql, f.params), deps.engine.query(fe.sql, fe.params), deps.engine.query(l.sql, l.params)]);
    const rows: TrainingFeatureRow[] = featureRows.map((r) => ({ assetId: String(r.asset_id), seq: Number(r.seq), ts: toMs(r.ts), vector: parseVectorText(r.vector) }));
    const failures = new Map<string, FailureEvent[]>();
    for (const r of failureRows) {
      const id = String(r.asset_id);
      failures.set(id, [...(failures.get(id) ?? []), { ts: toMs(r.ts), component: r.component === null || r.component === undefined ? null : String(r.component) }]);
    }
    const observedUntil = new Map(lastRows.map((r) => [String(r.asset_id), toMs(r.last_ts)]));
    const started = Date.parse(e.startedAt);
    for (const [i, p] of plan.predictors.entries()) {
      const entry = deps.manifest.models[model.id]!.predictors.find((x) => x.name === p.predictor)!;
      let data;
      try {
        data = retrainingDataset({ rows, failures, observedUntil, target: p.target, engineNames: featureNames(model), modelNames: entry.featureNames, holdoutFraction: deps.holdoutFraction });
      } catch (err) {
        if (err instanceof Error && err.name === 'RetrainingDataError') {
          skipped.push({ predictor: p.predictor, reason: err.message });
          continue;
        }
        throw err;
      }
      if (p.task === 'binary' && data.validationPositives === 0) {
        // An isotonic map without a positive says "never": the model could not alert. pdm retrain refuses it too.
        skipped.push({ predictor: p.predictor, reason: `no positive row in the validation slice (${data.validation.length} rows from ${new Date(data.validFromMs).toISOString()}): nothing to calibrate on` });
        continue;
      }
      const jobName = trainingJobName(deps.stage, Number.isFinite(started) ? started : Date.now(), e.executionName, i);
      const base = `${RETRAIN_PREFIX.data}/${jobName}`;
      await deps.putObject(`${base}/train/train.csv`, `${data.train.join('\n')}\n`);
      await deps.putObject(`${base}/validation.csv`, `${data.validation.join('\n')}\n`);
      await deps.putObject(`${base}/validation-index.json`, JSON.stringify(data.validationIndex));
      await deps.putObject(`${base}/holdout.csv`, `${data.holdout.join('\n')}\n`);
      await deps.putObject(`${base}/holdout-index.json`, JSON.stringify(data.holdoutIndex));
      jobs.push({
        assetModel: model.id,
        predictor: p.predictor,
        group: modelPackageGroupName(deps.stage, model.id, p.predictor),
        jobName,
        task: p.task,
        trainUri: `s3://${deps.bucket}/${base}/train/`,
        outputUri: `s3://${deps.bucket}/${RETRAIN_PREFIX.models}`,
        holdoutKey: `${base}/holdout.csv`,
        holdoutIndexKey: `${base}/holdout-index.json`,
        validationKey: `${base}/validation.csv`,
        validationIndexKey: `${base}/validation-index.json`,
        hyperparameters: p.hyperparameters,
        trainRows: data.train.length,
        validationRows: data.validation.length,
        holdoutRows: data.holdout.length,
        validFrom: new Date(data.validFromMs).toISOString(),
        cut: new Date(data.cutMs).toISOString(),
      });
    }
  }
  return { assetModel: model.id, trigger: e.trigger ?? 'manual', jobs, skipped };
}

const jobSpecSchema = z.object({
  assetModel: z.string().min(1),
  predictor: z.string().min(1),
  group: z.string().min(1),
  jobName: z.string().min(1),
  task: z.enum(['binary', 'regression']),
  holdoutKey: z.string().min(1),
  holdoutIndexKey: z.string().min(1),
  validationKey: z.string().min(1),
  validationIndexKey: z.string().min(1),
  validFrom: z.string(),
  cut: z.string(),
  trainRows: z.number(),
  validationRows: z.number(),
  holdoutRows: z.number(),
});

const evaluateEventSchema = z.object({
  job: jobSpecSchema,
  /** `DescribeTrainingJob`'s output, as the `.sync` integration returns it. */
  training: z.object({ ModelArtifacts: z.object({ S3ModelArtifacts: z.string().regex(/^s3:\/\/[^/]+\/.+/) }) }),
});

interface DecisionBase {
  readonly schema: 'pdm.model-decision.v1';
  readonly assetModel: string;
  readonly predictor: string;
  readonly trainingJob: string;
  /** sha256 of the model file the calibration or interval was fitted for: it belongs to this file only. */
  readonly sha256: string;
}

/**
 * A classifier's calibration and thresholds, as the decision JSON and the manifest carry them. `kind`
 * is absent in documents written before RUL decisions existed; readers take a missing kind as this one.
 */
export interface ClassifierDecisionDocument extends DecisionBase {
  readonly kind: 'classifier';
  readonly calibration: Calibration;
  readonly alertThresholds: AlertThresholds;
  readonly threshold: number;
  readonly validation: RetrainDecision['validation'] & { readonly from: string; readonly until: string };
}

/** An RUL predictor's conformal interval, fitted on the new model's validation residuals (clock units). */
export interface RulDecisionDocument extends DecisionBase {
  readonly kind: 'rul';
  readonly interval: RulInterval;
  readonly validation: { readonly rows: number; readonly from: string; readonly until: string };
}

/** What `<job>.decision.json` holds: fitted for the new model file, read by `pdm models pull`. */
export type DecisionDocument = ClassifierDecisionDocument | RulDecisionDocument;

export interface EvaluationResult {
  readonly modelDataUrl: string;
  readonly evaluationUri: string;
  /** `s3://…/evaluations/<job>.decision.json`: a classifier's calibration, or an RUL predictor's interval when one could be fitted. */
  readonly decisionUri?: string;
  /** WATCH / WARNING / CRITICAL of the new model; classifiers only. */
  readonly alertThresholds?: { readonly watch: number; readonly warning: number; readonly critical: number };
  readonly sha256: string;
  readonly metrics: MetricMap;
  readonly championMetrics: MetricMap;
  readonly gate: GateDecision;
}

export interface EvaluateDeps {
  readonly getObject: (uri: string) => Promise<Uint8Array>;
  readonly putObject: (key: string, body: string) => Promise<void>;
  readonly bucket: string;
  readonly manifest: BundleManifest;
  /** Reads a file of the deployed bundle (the model layer) by its manifest path. */
  readonly readBundleFile: (relPath: string) => Uint8Array;
}

/** Metrics as a plain map: time-clock RUL errors in hours, so reports read like the manifest's `rmseHours`. */
function metricMap(m: HoldoutMetrics): Record<string, number> {
  const out: Record<string, number> = { rows: m.rows };
  if (m.positives !== undefined) out.positives = m.positives;
  if (m.prAuc !== undefined) out.prAuc = m.prAuc;
  if (m.rmse !== undefined) out.rmse = m.rmse;
  return out;
}

/**
 * Held-out coverage of an RUL interval and its median width (in hours, as `rmse`), each row's bounds
 * taken as the scorer serves them: around the prediction floored at 0, the upper bound held at the cap.
 */
function intervalFigures(pred: Float64Array, truth: Float64Array, interval: RulInterval, cap: number | undefined): { intervalCoverage: number; intervalMedianWidth: number } {
  let covered = 0;
  const widths = new Float64Array(pred.length);
  for (let i = 0; i < pred.length; i++) {
    const b = rulBounds(interval, Math.max(0, pred[i]!), cap);
    if (truth[i]! >= b.lower && truth[i]! <= b.upper) covered++;
    widths[i] = b.upper - b.lower;
  }
  widths.sort();
  const n = widths.length;
  const median = n === 0 ? Number.NaN : n % 2 === 1 ? widths[(n - 1) / 2]! : (widths[n / 2 - 1]! + widths[n / 2]!) / 2;
  return { intervalCoverage: n === 0 ? Number.NaN : covered / n, intervalMedianWidth: median / MS_PER_HOUR };
}

/** JSON has no NaN: the evaluation documents write null for it. */
const jsonText = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);

/**
 * Scores the trained model (one `xgboost-model` UBJSON file in `model.tar.gz`) and the deployed
 * champion (the bundle's file for the same predictor) on the same held-out rows, writes the
 * evaluation JSON the model package's ModelMetrics points at, and runs the gate on the two.
 *
 * Classifiers: the new model's isotonic calibration and alert thresholds are fitted on the validation
 * slice (written to `<job>.decision.json` too), and both models are measured as they serve, each
 * with its own calibration and thresholds: the gated PR-AUC is the calibrated probability's, next to
 * the Brier score and the held-out alerts (`lambdas/core/retrain/decision.ts`).
 *
 * RUL predictors: the new model's split-conformal interval is fitted on its validation residuals (the
 * champion's was fitted on the old model's and would not hold), written to the decision JSON, and its
 * held-out coverage and median width go into the metrics next to the RMSE. Too few validation rows for
 * the level: no interval, and the evaluation JSON says why.
 */
export async function evaluateTrainedModel(event: unknown, deps: EvaluateDeps): Promise<EvaluationResult> {
  const { job, training } = parse(evaluateEventSchema, event, 'evaluate event');
  const modelDataUrl = training.ModelArtifacts.S3ModelArtifacts;
  const { content } = singleTarFile(gunzipSync(await deps.getObject(modelDataUrl)));
  const challenger = loadXgboostModel(content);
  const csv = async (key: string) => parseHoldoutCsv(new TextDecoder().decode(await deps.getObject(`s3://${deps.bucket}/${key}`)));
  const json = async (key: string): Promise<unknown> => JSON.parse(new TextDecoder().decode(await deps.getObject(`s3://${deps.bucket}/${key}`)));
  const holdout = await csv(job.holdoutKey);
  const entry = deps.manifest.models[job.assetModel]?.predictors.find((p) => p.name === job.predictor);
  if (!entry) throw new RetrainInputError(`the deployed bundle has no ${job.assetModel}/${job.predictor} to compare with`);
  const champion = loadXgboostModel(deps.readBundleFile(entry.file));
  const sha256 = createHash('sha256').update(content).digest('hex');
  let metrics: Record<string, number>;
  let championMetrics: Record<string, number>;
  let decision: DecisionDocument | undefined;
  let intervalNote: { readonly fitted: boolean; readonly reason?: string } | undefined;
  if (job.task === 'regression') {
    metrics = metricMap(evaluateHoldout(challenger, holdout, job.task, MS_PER_HOUR));
    championMetrics = metricMap(evaluateHoldout(champion, holdout, job.task, MS_PER_HOUR));
    // The export writes RUL labels in ms, the unit the time-clock model predicts, so residuals and the
    // interval are in clock units like the manifest's; only the reported width is turned into hours.
    const validation = await csv(job.validationKey);
    const served = scoreRows(challenger, validation).map((p) => Math.max(0, p));
    let interval: RulInterval | undefined;
    try {
      interval = fitRulInterval(served, validation.labels, `split-conformal: ${validation.rows} rows of the validation slice of training job ${job.jobName}, ${job.validFrom} → ${job.cut}`);
    } catch (err) {
      if (!(err instanceof ConformalInputError)) throw err;
      intervalNote = { fitted: false, reason: err.message };
    }
    if (interval) {
      intervalNote = { fitted: true };
      decision = { schema: 'pdm.model-decision.v1', kind: 'rul', assetModel: job.assetModel, predictor: job.predictor, trainingJob: job.jobName, sha256, interval, validation: { rows: validation.rows, from: job.validFrom, until: job.cut } };
      metrics = { ...metrics, ...intervalFigures(scoreRows(challenger, holdout), holdout.labels, interval, entry.rulCap) };
    }
    if (entry.interval) championMetrics = { ...championMetrics, ...intervalFigures(scoreRows(champion, holdout), holdout.labels, entry.interval, entry.rulCap) };
  } else {
    const model = findAssetModel(job.assetModel);
    if (!model) throw new RetrainInputError(`unknown asset model "${job.assetModel}"`);
    if (entry.horizon === undefined) throw new RetrainInputError(`${job.assetModel}/${job.predictor} has no horizon to score alerts with`);
    const ctx: DecisionContext = {
      health: defaultHealthPolicy('time'),
      alert: defaultAlertPolicy('time', model.downtimeCostPerHour),
      downtime: downtimeHoursOf(model),
      horizon: entry.horizon,
    };
    const validation = await csv(job.validationKey);
    const validationIndex = parseSliceIndex(await json(job.validationIndexKey), validation.rows, job.validationIndexKey);
    const holdoutIndex = parseSliceIndex(await json(job.holdoutIndexKey), holdout.rows, job.holdoutIndexKey);
    const until = job.cut;
    const fitted = fitRetrainDecision(scoreRows(challenger, validation), validation.labels, validationIndex, {
      ...ctx,
      describe: `the validation slice of training job ${job.jobName}, ${job.validFrom} → ${until}`,
    });
    decision = {
      schema: 'pdm.model-decision.v1',
      kind: 'classifier',
      assetModel: job.assetModel,
      predictor: job.predictor,
      trainingJob: job.jobName,
      sha256,
      calibration: fitted.calibration,
      alertThresholds: fitted.alertThresholds,
      threshold: fitted.threshold,
      validation: { ...fitted.validation, from: job.validFrom, until },
    };
    const positives = Array.from(holdout.labels).filter((y) => y > 0.5).length;
    const served = (m: CompiledModel, d: Parameters<typeof servedClassifierMetrics>[3]) => ({
      rows: holdout.rows,
      positives,
      ...servedClassifierMetrics(scoreRows(m, holdout), holdout.labels, holdoutIndex, d, ctx),
    });
    metrics = served(challenger, fitted);
    championMetrics = served(champion, { calibration: entry.calibration, alertThresholds: entry.alertThresholds });
  }
  const gate = gateMetrics(championMetrics, metrics, DEFAULT_GATE_TOLERANCES);
  const decisionKey = `${RETRAIN_PREFIX.evaluations}/${job.jobName}.decision.json`;
  if (decision) await deps.putObject(decisionKey, jsonText(decision));
  const evaluation = {
    schema: 'pdm.evaluation.v1',
    assetModel: job.assetModel,
    predictor: job.predictor,
    trainingJob: job.jobName,
    modelDataUrl,
    sha256,
    holdout: { rows: holdout.rows, from: job.cut, trainRows: job.trainRows, validationRows: job.validationRows, validFrom: job.validFrom },
    metrics,
    champion: { sha256: entry.sha256, file: entry.file, metrics: championMetrics, calibrated: entry.calibration !== undefined },
    ...(decision?.kind === 'classifier' ? { decision: { uri: `s3://${deps.bucket}/${decisionKey}`, alertThresholds: decision.alertThresholds, validation: decision.validation } } : {}),
    ...(decision?.kind === 'rul' ? { decision: { uri: `s3://${deps.bucket}/${decisionKey}`, validation: decision.validation } } : {}),
    ...(intervalNote ? { interval: intervalNote } : {}),
    gate: { tolerances: DEFAULT_GATE_TOLERANCES, ...gate },
    units: job.task === 'regression' ? { rmse: 'hours', intervalMedianWidth: 'hours', intervalCoverage: 'share of held-out rows' } : { prAuc: 'calibrated probability', prAucRaw: 'raw output' },
  };
  const key = `${RETRAIN_PREFIX.evaluations}/${job.jobName}.json`;
  await deps.putObject(key, jsonText(evaluation));
  return {
    modelDataUrl,
    evaluationUri: `s3://${deps.bucket}/${key}`,
    ...(decision ? { decisionUri: `s3://${deps.bucket}/${decisionKey}` } : {}),
    ...(decision?.kind === 'classifier'
      ? {
          alertThresholds: { watch: decision.alertThresholds.watch, warning: decision.alertThresholds.warning, critical: decision.alertThresholds.critical },
        }
      : {}),
    sha256,
    metrics,
    championMetrics,
    gate,
  };
}

function scoreRows(model: CompiledModel, h: Holdout): Float64Array {
  if (h.features !== model.numFeatures) throw new HoldoutFormatError(`the slice has ${h.features} feature columns, the model expects ${model.numFeatures}`);
  return predictBatch(model, h.x, h.rows);
}

const registerEventSchema = z.object({
  job: jobSpecSchema,
  evaluation: z.object({
    modelDataUrl: z.string().min(1),
    evaluationUri: z.string().min(1),
    decisionUri: z.string().min(1).optional(),
    alertThresholds: z.object({ watch: z.number(), warning: z.number(), critical: z.number() }).optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    metrics: z.record(z.string(), z.number().nullable()),
    gate: z.object({ pass: z.boolean(), reasons: z.array(z.string()) }),
  }),
});

export interface RegisterResult {
  readonly group: string;
  readonly modelPackageArn: string;
  readonly version: number;
  readonly approval: string;
  readonly promoted: boolean;
  /** One line for the ops notification. */
  readonly summary: string;
}

export interface RegisterDeps {
  readonly registry: Pick<SageMakerModelRegistry, 'register' | 'approve'>;
  readonly image: string;
  /** Approve versions that pass the gate (the stage's `retraining.autoPromote`). */
  readonly autoPromote: boolean;
}

/** Registers the evaluated version PendingManualApproval; approves it only with `autoPromote` and a passed gate. */
export async function registerVersion(event: unknown, deps: RegisterDeps): Promise<RegisterResult> {
  const { job, evaluation } = parse(registerEventSchema, event, 'register event');
  // JSON has no NaN: the evaluation function's NaN (no positives in the holdout) arrives as null.
  const metrics = Object.fromEntries(Object.entries(evaluation.metrics).map(([k, v]) => [k, v ?? Number.NaN]));
  const v = await deps.registry.register({
    group: job.group,
    image: deps.image,
    modelDataUrl: evaluation.modelDataUrl,
    evaluationUri: evaluation.evaluationUri,
    metrics,
    versionId: `training-job:${job.jobName}`,
    sha256: evaluation.sha256,
    assetModel: job.assetModel,
    predictor: job.predictor,
    source: `training-job:${job.jobName}`,
    ...(evaluation.decisionUri ? { decisionUri: evaluation.decisionUri } : {}),
    ...(evaluation.alertThresholds ? { alertThresholds: evaluation.alertThresholds } : {}),
    description: `${job.assetModel}/${job.predictor} retrained by ${job.jobName} on ${job.trainRows} rows before ${job.cut}`,
  });
  const promote = deps.autoPromote && evaluation.gate.pass;
  if (promote) await deps.registry.approve(v.arn, `autoPromote: gate passed on ${job.holdoutRows} held-out rows`);
  const t = evaluation.alertThresholds;
  const thresholdText = t ? `; own calibration, WARNING ${t.warning}` : '';
  const gateText = evaluation.gate.pass ? 'gate passed' : `gate failed (${evaluation.gate.reasons.join('; ')})`;
  const shown = Object.entries(metrics)
    .map(([k, x]) => `${k}=${Number.isInteger(x) ? x : x.toFixed(4)}`)
    .join(' ');
  return {
    group: job.group,
    modelPackageArn: v.arn,
    version: v.version,
    approval: promote ? 'Approved' : 'PendingManualApproval',
    promoted: promote,
    summary: `${job.group} version ${v.version}: ${shown}${thresholdText}; ${gateText}; ${promote ? 'approved (autoPromote)' : 'waiting for approval: pdm models approve'}`,
  };
}
