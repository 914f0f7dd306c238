import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { HistoryQueryEngine } from '../../lambdas/adapters/history.ts';
import { getAssetModel } from '../../lambdas/core/catalog/index.ts';
import { featureNames } from '../../lambdas/core/features/index.ts';
import { parseManifest, type BundleManifest } from '../../lambdas/core/model/bundle.ts';
import { ustarSingleFile } from '../../lambdas/core/model/tar.ts';
import { evaluateTrainedModel, exportTrainingData, registerVersion, RetrainInputError, type TrainingJobSpec } from '../../lambdas/retrain/app.ts';
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
  it('writes a train and a holdout CSV per eligible predictor and returns one training job each', async () => {
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
  hyperparameters: {} as TrainingJobSpec['hyperparameters'], trainRows: 100, holdoutRows: 4, cut: '2026-01-05T00:00:00.000Z',
};
const manifest: BundleManifest = { ...shipped, models: { 'centrifugal-pump': { predictors: [{ ...failure, file: 'champion.ubj' }] } } };

describe('evaluateTrainedModel', () => {
  it('scores the trained model and the champion on the same holdout, writes the evaluation JSON and gates', async () => {
    const objects = new Map<string, Uint8Array>([
      ['s3://b/models/pdm-dev-job-0/output/model.tar.gz', gzipSync(ustarSingleFile('xgboost-model', stump(5)))],
      ['s3://b/data/pdm-dev-job-0/holdout.csv', new TextEncoder().encode('0,1,0\n0,2,0\n1,8,0\n1,9,0\n')],
    ]);
    const puts = new Map<string, string>();

    const r = await evaluateTrainedModel(
      { job, training: { ModelArtifacts: { S3ModelArtifacts: 's3://b/models/pdm-dev-job-0/output/model.tar.gz' } } },
      { getObject: async (u) => objects.get(u)!, putObject: async (k, b) => void puts.set(k, b), bucket: 'b', manifest, readBundleFile: () => stump(100) },
    );

    expect(r.metrics).toEqual({ rows: 4, positives: 2, prAuc: 1 });
    expect(r.championMetrics.prAuc).toBe(0.5);
    expect(r.gate.pass).toBe(true);
    expect(r.evaluationUri).toBe('s3://b/evaluations/pdm-dev-job-0.json');
    const doc = JSON.parse(puts.get('evaluations/pdm-dev-job-0.json')!);
    expect(doc).toMatchObject({ schema: 'pdm.evaluation.v1', trainingJob: 'pdm-dev-job-0', metrics: { prAuc: 1 }, champion: { metrics: { prAuc: 0.5 } }, gate: { pass: true } });
    expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('registerVersion', () => {
  const evaluation = { modelDataUrl: 's3://b/m.tar.gz', evaluationUri: 's3://b/e.json', sha256: 'c'.repeat(64), metrics: { prAuc: 0.9, rows: 4 }, gate: { pass: true, reasons: [] } };
  const fake = () => {
    const calls: string[] = [];
    return {
      calls,
      registry: {
        register: async () => (calls.push('register'), { arn: 'arn:pkg/7', group: job.group, version: 7, approval: 'PendingManualApproval' as const, status: 'Completed', createdAt: new Date() }),
        approve: async () => (calls.push('approve'), { approved: {} as never, champion: undefined }),
      },
    };
  };

  it('registers pending approval and does not approve without autoPromote, even when the gate passes', async () => {
    const f = fake();
    const r = await registerVersion({ job, evaluation }, { registry: f.registry, image: 'img', autoPromote: false });
    expect(f.calls).toEqual(['register']);
    expect(r).toMatchObject({ version: 7, approval: 'PendingManualApproval', promoted: false });
    expect(r.summary).toMatch(/waiting for approval/);
  });

  it('approves with autoPromote only when the gate passed', async () => {
    const pass = fake();
    expect((await registerVersion({ job, evaluation }, { registry: pass.registry, image: 'img', autoPromote: true })).promoted).toBe(true);
    expect(pass.calls).toEqual(['register', 'approve']);
    const fail = fake();
    const r = await registerVersion({ job, evaluation: { ...evaluation, gate: { pass: false, reasons: ['prAuc: below'] } } }, { registry: fail.registry, image: 'img', autoPromote: true });
    expect(fail.calls).toEqual(['register']);
    expect(r.summary).toMatch(/gate failed \(prAuc: below\)/);
  });
});
