import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { HistoryQueryEngine } from '../../lambdas/adapters/history.ts';
import { getAssetModel } from '../../lambdas/core/catalog/index.ts';
import { featureNames } from '../../lambdas/core/features/index.ts';
import { parseManifest, type BundleManifest } from '../../lambdas/core/model/bundle.ts';
import { ustarSingleFile } from '../../lambdas/core/model/tar.ts';
import { evaluateTrainedModel, exportTrainingData, registerVersion, RetrainInputError, type TrainingJobSpec } from '../../lambdas/retrain/app.ts';
import { SliceIndexError } from '../../lambdas/core/retrain/decision.ts';
import { modelObject, toXgboostUbjson } from '../core/model/fixtures.ts';

const H = 3_600_000;
const shipped = parseManifest(readFileSync('layers/model/manifest.json', 'utf8'));
const pump = getAssetModel('centrifugal-pump');
const names = featureNames(pump);
const failure = shipped.models['centrifugal-pump']!.predictors.find((p) => p.name === 'failure')!;
const col = names.indexOf(failure.featureNames[0]!);

/** A fake Athena: answers the three export queries by the table they read. */
function history(): HistoryQueryEngine & { sql: string[] } {
  const sql: string[] = [];
  const T0 = Date.UTC(2026, 0, 1);
  return {
    sql,
    async query(q: string) {
      sql.push(q);
      if (q.includes('FROM features')) {
        return Array.from({ length: 200 }, (_, i) => ({ asset_id: 'p1', seq: i, ts: new Date(T0 + i * H).toISOString(), vector: JSON.stringify(names.map((_, j) => (j === col ? i : 0))) }));
      }
      if (q.includes('FROM maintenance')) return [60, 150].map((h) => ({ asset_id: 'p1', ts: new Date(T0 + h * H).toISOString(), component: null }));
      return [{ asset_id: 'p1', last_ts: new Date(T0 + 199 * H).toISOString() }];
    },
  };
}

describe('exportTrainingData', () => {
  it('writes train, validation and holdout CSVs (with slice indexes) per eligible predictor and returns one training job each', async () => {
    const puts = new Map<string, string>();
    const engine = history();

    const r = await exportTrainingData(
      { input: { assetModel: 'centrifugal-pump', trigger: 'drift' }, executionName: 'abc-123', startedAt: '2026-05-01T12:00:00Z' },
      { engine, putObject: async (k, b) => void puts.set(k, b), bucket: 'b', stage: 'dev', manifest: shipped, holdoutFraction: 0.2 },
    );

    expect(engine.sql).toHaveLength(3);
    expect(r.trigger).toBe('drift');
    expect(r.jobs.map((j) => j.predictor).sort()).toEqual(['failure', 'rul']);
    const job = r.jobs.find((j) => j.predictor === 'failure')!;
    expect(job.group).toBe('pdm-dev-centrifugal-pump-failure');
    expect(job.trainUri).toBe(`s3://b/data/${job.jobName}/train/`);
    expect(job.outputUri).toBe('s3://b/models');
    const train = puts.get(`data/${job.jobName}/train/train.csv`)!.trim().split('\n');
    expect(train.length).toBe(job.trainRows);
    // Label first, then the manifest's features; the first manifest feature is the one that carries the hour.
    expect(train[10]!.split(',')).toHaveLength(1 + failure.featureNames.length);
    expect(train[10]!.split(',')[1]).toBe('10');
    expect(puts.get(job.holdoutKey)!.trim().split('\n')).toHaveLength(job.holdoutRows);
    // 60/20/20 of the labelled span (rows 0..175 h: the last 24 h cannot be labelled), as pdm retrain splits.
    expect(job.validFrom).toBe(new Date(Date.UTC(2026, 0, 1) + 105 * H).toISOString());
    expect(job.cut).toBe(new Date(Date.UTC(2026, 0, 1) + 140 * H).toISOString());
    const validation = puts.get(job.validationKey)!.trim().split('\n');
    expect(validation).toHaveLength(job.validationRows);
    expect(validation.map((l) => l.split(',')[1])).toEqual(Array.from({ length: 35 }, (_, i) => String(105 + i)));
    const index = JSON.parse(puts.get(job.validationIndexKey)!);
    expect(index.ts).toHaveLength(job.validationRows);
    expect(index.failures).toEqual({ p1: [60, 150].map((h) => Date.UTC(2026, 0, 1) + h * H) });
    expect(JSON.parse(puts.get(job.holdoutIndexKey)!).assetId).toHaveLength(job.holdoutRows);
  });

  it('skips a classifier whose validation slice holds no failure: there is nothing to calibrate on', async () => {
    const engine = history();
    const only60: HistoryQueryEngine = {
      query: async (q: string, params?: unknown) => (q.includes('FROM maintenance') ? [{ asset_id: 'p1', ts: new Date(Date.UTC(2026, 0, 1) + 60 * H).toISOString(), component: null }] : engine.query(q, params as never)),
    };
    const r = await exportTrainingData(
      { input: { assetModel: 'centrifugal-pump', predictors: ['failure'] }, executionName: 'x', startedAt: '2026-05-01T12:00:00Z' },
      { engine: only60, putObject: async () => {}, bucket: 'b', stage: 'dev', manifest: shipped, holdoutFraction: 0.2 },
    );
    expect(r.jobs).toHaveLength(0);
    expect(r.skipped).toEqual([{ predictor: 'failure', reason: expect.stringMatching(/no positive row in the validation slice/) }]);
  });

  it('skips a cycle-clock model without querying, and refuses an unknown asset model', async () => {
    const engine = history();
    const deps = { engine, putObject: async () => {}, bucket: 'b', stage: 'dev', manifest: shipped, holdoutFraction: 0.2 };
    const r = await exportTrainingData({ input: { assetModel: 'turbofan' }, executionName: 'x', startedAt: '2026-05-01T12:00:00Z' }, deps);
    expect(r.jobs).toHaveLength(0);
    expect(r.skipped.length).toBeGreaterThan(0);
    expect(engine.sql).toHaveLength(0);
    await expect(exportTrainingData({ input: { assetModel: 'nope' }, executionName: 'x', startedAt: 'y' }, deps)).rejects.toThrow(RetrainInputError);
    await expect(exportTrainingData({ executionName: 'x' }, deps)).rejects.toThrow(/input/);
  });
});

// Champion and challenger: stumps on feature 0. The challenger splits where the positives start; the champion nowhere useful.
const stump = (cond: number) => toXgboostUbjson(modelObject({ numFeatures: 2, objective: 'binary:logistic', baseScore: '5E-1', trees: [{ f: 0, cond, defaultLeft: true, left: { leaf: -2 }, right: { leaf: 2 } }] }));
const job: TrainingJobSpec = {
  assetModel: 'centrifugal-pump', predictor: 'failure', group: 'pdm-dev-centrifugal-pump-failure', jobName: 'pdm-dev-job-0', task: 'binary',
  trainUri: 's3://b/data/pdm-dev-job-0/train/', outputUri: 's3://b/models', holdoutKey: 'data/pdm-dev-job-0/holdout.csv',
  holdoutIndexKey: 'data/pdm-dev-job-0/holdout-index.json', validationKey: 'data/pdm-dev-job-0/validation.csv', validationIndexKey: 'data/pdm-dev-job-0/validation-index.json',
  hyperparameters: {} as TrainingJobSpec['hyperparameters'], trainRows: 100, validationRows: 50, holdoutRows: 4, validFrom: '2026-01-01T00:00:00.000Z', cut: '2026-01-05T00:00:00.000Z',
};
const manifest: BundleManifest = { ...shipped, models: { 'centrifugal-pump': { predictors: [{ ...failure, file: 'champion.ubj' }] } } };
const T0 = Date.UTC(2026, 0, 1);
const enc = (s: string) => new TextEncoder().encode(s);
/** Validation: 30 healthy hours (x = 1), then 20 hours before a failure at hour 50 (x = 8, label 1). */
const validationCsv = Array.from({ length: 50 }, (_, i) => (i < 30 ? '0,1,0' : '1,8,0')).join('\n');
const validationIndex = { assetId: Array(50).fill('p1'), ts: Array.from({ length: 50 }, (_, i) => T0 + i * H), failures: { p1: [T0 + 50 * H] } };
const holdoutIndex = { assetId: Array(4).fill('p2'), ts: [100, 101, 102, 103].map((h) => T0 + h * H), failures: { p2: [T0 + 104 * H] } };
const objects = (index: unknown = validationIndex) =>
  new Map<string, Uint8Array>([
    ['s3://b/models/pdm-dev-job-0/output/model.tar.gz', gzipSync(ustarSingleFile('xgboost-model', stump(5)))],
    ['s3://b/data/pdm-dev-job-0/holdout.csv', enc('0,1,0\n0,2,0\n1,8,0\n1,9,0\n')],
    ['s3://b/data/pdm-dev-job-0/holdout-index.json', enc(JSON.stringify(holdoutIndex))],
    ['s3://b/data/pdm-dev-job-0/validation.csv', enc(validationCsv)],
    ['s3://b/data/pdm-dev-job-0/validation-index.json', enc(JSON.stringify(index))],
  ]);
const trained = { ModelArtifacts: { S3ModelArtifacts: 's3://b/models/pdm-dev-job-0/output/model.tar.gz' } };

describe('evaluateTrainedModel', () => {
  it('scores the trained model and the champion on the same holdout, writes the evaluation JSON and gates', async () => {
    const o = objects();
    const puts = new Map<string, string>();

    const r = await evaluateTrainedModel(
      { job, training: trained },
      { getObject: async (u) => o.get(u)!, putObject: async (k, b) => void puts.set(k, b), bucket: 'b', manifest, readBundleFile: () => stump(100) },
    );

    expect(r.metrics).toMatchObject({ rows: 4, positives: 2, prAuc: 1, prAucRaw: 1, brier: 0 });
    // The champion gives every row the same score: PR-AUC is the positive share, calibrated or not.
    expect(r.championMetrics.prAuc).toBe(0.5);
    expect(r.gate.pass).toBe(true);
    expect(r.evaluationUri).toBe('s3://b/evaluations/pdm-dev-job-0.json');
    const doc = JSON.parse(puts.get('evaluations/pdm-dev-job-0.json')!);
    expect(doc).toMatchObject({ schema: 'pdm.evaluation.v1', trainingJob: 'pdm-dev-job-0', metrics: { prAuc: 1 }, champion: { metrics: { prAuc: 0.5 }, calibrated: true }, gate: { pass: true } });
    expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("fits the new model's own isotonic calibration and alert thresholds on the validation slice", async () => {
    const o = objects();
    const puts = new Map<string, string>();

    const r = await evaluateTrainedModel(
      { job, training: trained },
      { getObject: async (u) => o.get(u)!, putObject: async (k, b) => void puts.set(k, b), bucket: 'b', manifest, readBundleFile: () => stump(100) },
    );

    expect(r.decisionUri).toBe('s3://b/evaluations/pdm-dev-job-0.decision.json');
    const d = JSON.parse(puts.get('evaluations/pdm-dev-job-0.decision.json')!);
    expect(d).toMatchObject({ schema: 'pdm.model-decision.v1', sha256: r.sha256, trainingJob: 'pdm-dev-job-0' });
    // Two raw outputs, 30 negatives below and 20 positives above: the map sends them to 0 and 1.
    expect(d.calibration).toMatchObject({ method: 'isotonic', y: [0, 1], rows: 50, positives: 20 });
    expect(d.calibration.x).toEqual([expect.closeTo(1 / (1 + Math.exp(2)), 6), expect.closeTo(1 / (1 + Math.exp(-2)), 6)]);
    // The failure at hour 50 is caught by an alert within the horizon, with no false alert.
    expect(d.validation).toMatchObject({ failures: 1, caught: 1, falseAlerts: 0, rows: 50, positives: 20 });
    expect(d.alertThresholds.warning).toBe(d.threshold);
    expect(r.alertThresholds).toEqual({ watch: d.alertThresholds.watch, warning: d.alertThresholds.warning, critical: d.alertThresholds.critical });
    expect(d.alertThresholds.basis).toMatch(/validation slice of training job pdm-dev-job-0/);
    // Held-out alerts with those thresholds: the failure at hour 104 is caught.
    expect(r.metrics).toMatchObject({ alertFailures: 1, alertsCaught: 1, falseAlerts: 0 });
  });

  it('refuses a validation index that does not describe the validation CSV', async () => {
    const o = objects({ ...validationIndex, ts: validationIndex.ts.slice(1) });
    const deps = { getObject: async (u: string) => o.get(u)!, putObject: async () => {}, bucket: 'b', manifest, readBundleFile: () => stump(100) };
    await expect(evaluateTrainedModel({ job, training: trained }, deps)).rejects.toThrow(SliceIndexError);
  });
});

// A regression job on the pump's RUL: stumps on feature 0 whose leaves are RUL in ms, as the export labels it.
const rulStump = (cond: number) =>
  toXgboostUbjson(modelObject({ numFeatures: 2, objective: 'reg:squarederror', baseScore: '0E0', trees: [{ f: 0, cond, defaultLeft: true, left: { leaf: 100 * H }, right: { leaf: 10 * H } }] }));
const rulEntry = shipped.models['centrifugal-pump']!.predictors.find((p) => p.name === 'rul')!;
const rulJob: TrainingJobSpec = { ...job, predictor: 'rul', group: 'pdm-dev-centrifugal-pump-rul', task: 'regression', validationRows: 250 };
/**
 * 150 rows at x = 1 (prediction 100 h) whose truth is off by −10…+10 h, 100 rows at x = 8 (10 h) off by
 * −2…+2 h: the 12th smallest of the 250 residuals (rank ⌊251·0.05⌋) is −9 h, the 239th is +9 h.
 */
const rulValidationCsv = (rows: number) =>
  Array.from({ length: rows }, (_, i) => (i < 150 ? `${(100 + ((i % 21) - 10)) * H},1,0` : `${(10 + ((i % 5) - 2)) * H},8,0`)).join('\n');
/** Truth 100 h and 10 h fall inside ±9 h of their predictions, 110 h and 0 h outside. */
const rulHoldoutCsv = `${100 * H},1,0\n${110 * H},1,0\n${10 * H},8,0\n0,8,0\n`;
const rulObjects = (validationRows: number) =>
  new Map<string, Uint8Array>([
    ['s3://b/models/pdm-dev-job-0/output/model.tar.gz', gzipSync(ustarSingleFile('xgboost-model', rulStump(5)))],
    ['s3://b/data/pdm-dev-job-0/holdout.csv', enc(rulHoldoutCsv)],
    ['s3://b/data/pdm-dev-job-0/validation.csv', enc(rulValidationCsv(validationRows))],
  ]);

describe('evaluateTrainedModel on an RUL job', () => {
  // The champion predicts 100 h everywhere, with an interval of ±50 h fitted on its own residuals.
  const championInterval = { method: 'split-conformal' as const, level: 0.9, edges: [], bins: [{ lower: -50 * H, upper: 50 * H, n: 400 }], calibrationRows: 400, calibration: 'old model' };
  const rulManifest: BundleManifest = { ...shipped, models: { 'centrifugal-pump': { predictors: [{ ...rulEntry, file: 'champion.ubj', interval: championInterval }] } } };

  it("fits the new model's interval on its validation residuals and measures its held-out coverage and median width", async () => {
    const o = rulObjects(250);
    const puts = new Map<string, string>();

    const r = await evaluateTrainedModel(
      { job: rulJob, training: trained },
      { getObject: async (u) => o.get(u)!, putObject: async (k, b) => void puts.set(k, b), bucket: 'b', manifest: rulManifest, readBundleFile: () => rulStump(100) },
    );

    expect(r.decisionUri).toBe('s3://b/evaluations/pdm-dev-job-0.decision.json');
    expect(r.alertThresholds).toBeUndefined();
    const d = JSON.parse(puts.get('evaluations/pdm-dev-job-0.decision.json')!);
    expect(d).toMatchObject({ schema: 'pdm.model-decision.v1', kind: 'rul', predictor: 'rul', sha256: r.sha256, validation: { rows: 250, from: rulJob.validFrom, until: rulJob.cut } });
    // 250 rows make one bin (200 rows per bin at least); the residuals are in ms, the unit the model predicts.
    expect(d.interval).toMatchObject({ method: 'split-conformal', level: 0.9, edges: [], bins: [{ lower: -9 * H, upper: 9 * H, n: 250 }], calibrationRows: 250 });
    expect(d.interval.calibration).toMatch(/validation slice of training job pdm-dev-job-0/);
    // Two of four held-out truths inside ±9 h; every interval is 18 h wide.
    expect(r.metrics).toMatchObject({ rows: 4, intervalCoverage: 0.5, intervalMedianWidth: 18 });
    // The champion's own interval on its own predictions: 100 h ± 50 h holds 100 h and 110 h only.
    expect(r.championMetrics).toMatchObject({ intervalCoverage: 0.5, intervalMedianWidth: 100 });
    const doc = JSON.parse(puts.get('evaluations/pdm-dev-job-0.json')!);
    expect(doc).toMatchObject({ interval: { fitted: true }, decision: { uri: r.decisionUri }, units: { intervalMedianWidth: 'hours' } });
  });

  it('fits no interval on too few validation rows and says why in the evaluation JSON', async () => {
    const o = rulObjects(50);
    const puts = new Map<string, string>();

    const r = await evaluateTrainedModel(
      { job: { ...rulJob, validationRows: 50 }, training: trained },
      { getObject: async (u) => o.get(u)!, putObject: async (k, b) => void puts.set(k, b), bucket: 'b', manifest: rulManifest, readBundleFile: () => rulStump(100) },
    );

    expect(r.decisionUri).toBeUndefined();
    expect(puts.has('evaluations/pdm-dev-job-0.decision.json')).toBe(false);
    expect(r.metrics.intervalCoverage).toBeUndefined();
    expect(JSON.parse(puts.get('evaluations/pdm-dev-job-0.json')!).interval).toEqual({ fitted: false, reason: expect.stringMatching(/50 calibration rows; a 0.9 interval needs at least 200/) });
  });
});

describe('registerVersion', () => {
  const evaluation = { modelDataUrl: 's3://b/m.tar.gz', evaluationUri: 's3://b/e.json', sha256: 'c'.repeat(64), metrics: { prAuc: 0.9, rows: 4 }, gate: { pass: true, reasons: [] } };
  const fake = () => {
    const calls: string[] = [];
    return {
      calls,
      registry: {
        register: async (input: { decisionUri?: string; alertThresholds?: unknown }) => (calls.push(`register ${input.decisionUri ?? '-'} ${JSON.stringify(input.alertThresholds ?? null)}`), { arn: 'arn:pkg/7', group: job.group, version: 7, approval: 'PendingManualApproval' as const, status: 'Completed', createdAt: new Date() }),
        approve: async () => (calls.push('approve'), { approved: {} as never, champion: undefined }),
      },
    };
  };

  it('registers pending approval and does not approve without autoPromote, even when the gate passes', async () => {
    const f = fake();
    const r = await registerVersion({ job, evaluation }, { registry: f.registry, image: 'img', autoPromote: false });
    expect(f.calls).toEqual(['register - null']);
    expect(r).toMatchObject({ version: 7, approval: 'PendingManualApproval', promoted: false });
    expect(r.summary).toMatch(/waiting for approval/);
  });

  it("passes the new model's decision JSON and thresholds on to the model package's metadata", async () => {
    const f = fake();
    const t = { watch: 0.2, warning: 0.4, critical: 0.7 };
    const r = await registerVersion({ job, evaluation: { ...evaluation, decisionUri: 's3://b/evaluations/j.decision.json', alertThresholds: t } }, { registry: f.registry, image: 'img', autoPromote: false });
    expect(f.calls).toEqual([`register s3://b/evaluations/j.decision.json ${JSON.stringify(t)}`]);
    expect(r.summary).toMatch(/own calibration, WARNING 0.4/);
  });

  it('approves with autoPromote only when the gate passed', async () => {
    const pass = fake();
    expect((await registerVersion({ job, evaluation }, { registry: pass.registry, image: 'img', autoPromote: true })).promoted).toBe(true);
    expect(pass.calls).toEqual(['register - null', 'approve']);
    const fail = fake();
    const r = await registerVersion({ job, evaluation: { ...evaluation, gate: { pass: false, reasons: ['prAuc: below'] } } }, { registry: fail.registry, image: 'img', autoPromote: true });
    expect(fail.calls).toEqual(['register - null']);
    expect(r.summary).toMatch(/gate failed \(prAuc: below\)/);
  });
});
