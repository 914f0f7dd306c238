import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeModelPackageCommand, ListModelPackagesCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SageMakerModelRegistry } from '../../../lambdas/adapters/aws/model-registry.ts';
import { parseManifest } from '../../../lambdas/core/model/bundle.ts';
import { ustarSingleFile } from '../../../lambdas/core/model/tar.ts';
import { readBundle } from '../../../ml/bundle/read.ts';
import { checkDeployed, s3Reader } from '../../../ml/cli/models-aws.ts';
import { PullError, pullVersion } from '../../../ml/cli/models-pull.ts';
import { adoptImported, championOf, promote, readBlob, registerBundle, registerVersion } from '../../../ml/registry/store.ts';
import { modelObject, toXgboostUbjson } from '../../core/model/fixtures.ts';
import { tempRegistry } from '../registry/fixtures.ts';

const sm = mockClient(SageMakerClient);
const s3 = mockClient(S3Client);
const shipped = parseManifest(readFileSync('layers/model/manifest.json', 'utf8'));
const failure = shipped.models['centrifugal-pump']!.predictors.find((p) => p.name === 'failure')!;
const GROUP = 'pdm-dev-centrifugal-pump-failure';
const arn = (v: number) => `arn:aws:sagemaker:eu-west-1:123456789012:model-package/${GROUP}/${v}`;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

/** What SageMaker's training job wrote: one small UBJSON model on the champion's 140 columns. */
const model = toXgboostUbjson(
  modelObject({ numFeatures: failure.featureNames.length, objective: 'binary:logistic', baseScore: '5E-1', trees: [{ f: 3, cond: 0.5, defaultLeft: true, left: { leaf: -2 }, right: { leaf: 2 } }] }),
);
const modelSha = sha(model);
const calibration = { method: 'isotonic', x: [0.12, 0.88], y: [0.01, 0.9], rows: 400, positives: 40 };
const alertThresholds = { watch: 0.2, warning: 0.4, critical: 0.8, basis: 'chosen on the validation slice of training job job-3' };

function mockStage(o: { decision?: boolean; recordedSha?: string } = {}) {
  sm.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [] });
  sm.on(ListModelPackagesCommand, { ModelPackageGroupName: GROUP }).resolves({
    ModelPackageSummaryList: [
      { ModelPackageArn: arn(3), ModelPackageVersion: 3, CreationTime: new Date('2026-03-02T00:00:00Z'), ModelPackageStatus: 'Completed', ModelApprovalStatus: 'PendingManualApproval' },
      { ModelPackageArn: arn(2), ModelPackageVersion: 2, CreationTime: new Date('2026-02-01T00:00:00Z'), ModelPackageStatus: 'Completed', ModelApprovalStatus: 'Approved' },
    ],
  });
  sm.on(DescribeModelPackageCommand, { ModelPackageName: arn(3) }).resolves({
    ModelPackageArn: arn(3),
    ModelPackageGroupName: GROUP,
    ModelPackageVersion: 3,
    ModelPackageStatus: 'Completed',
    ModelApprovalStatus: 'PendingManualApproval',
    CreationTime: new Date('2026-03-02T00:00:00Z'),
    InferenceSpecification: { Containers: [{ Image: 'img', ModelDataUrl: 's3://b/models/job-3/output/model.tar.gz' }] },
    ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: 's3://b/evaluations/job-3.json' } } },
    CustomerMetadataProperties: {
      'pdm.sha256': o.recordedSha ?? modelSha,
      'pdm.source': 'training-job:job-3',
      'pdm.predictor': 'failure',
      ...(o.decision === false ? {} : { 'pdm.decision': 's3://b/evaluations/job-3.decision.json' }),
    },
  });
  const objects: Record<string, Uint8Array> = {
    'models/job-3/output/model.tar.gz': gzipSync(ustarSingleFile('xgboost-model', model)),
    'evaluations/job-3.json': enc({
      trainingJob: 'job-3',
      holdout: { rows: 300, from: '2026-03-01T00:00:00.000Z', trainRows: 900, validationRows: 300, validFrom: '2026-02-20T00:00:00.000Z' },
      metrics: { rows: 300, positives: 30, prAuc: 0.93, prAucRaw: 0.94, brier: 0.05, falseAlerts: 1, rmse: null },
      champion: { sha256: failure.sha256, metrics: { rows: 300, positives: 30, prAuc: 0.9, falseAlerts: 2 } },
    }),
    'evaluations/job-3.decision.json': enc({ schema: 'pdm.model-decision.v1', sha256: modelSha, calibration, alertThresholds, threshold: 0.4 }),
  };
  for (const [key, body] of Object.entries(objects)) {
    // The reader only calls transformToByteArray on the SDK's stream.
    s3.on(GetObjectCommand, { Bucket: 'b', Key: key }).resolves({ Body: { transformToByteArray: async () => body } as never });
  }
}

const rulEntry = shipped.models['centrifugal-pump']!.predictors.find((p) => p.name === 'rul')!;
const RUL_GROUP = 'pdm-dev-centrifugal-pump-rul';
const rulArn = `arn:aws:sagemaker:eu-west-1:123456789012:model-package/${RUL_GROUP}/1`;
const rulModel = toXgboostUbjson(
  modelObject({ numFeatures: rulEntry.featureNames.length, objective: 'reg:squarederror', baseScore: '0E0', trees: [{ f: 0, cond: 0.5, defaultLeft: true, left: { leaf: 3.6e8 }, right: { leaf: 3.6e7 } }] }),
);
const rulSha = sha(rulModel);
const interval = { method: 'split-conformal', level: 0.9, edges: [], bins: [{ lower: -3.2e7, upper: 3.3e7, n: 250 }], calibrationRows: 250, calibration: 'split-conformal: 250 rows of the validation slice of training job job-9' };

/** The RUL group with one version; `decision: false` is a version registered before RUL decisions existed. */
function mockRulStage(o: { decision?: boolean; decisionSha?: string } = {}) {
  sm.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [] });
  sm.on(ListModelPackagesCommand, { ModelPackageGroupName: RUL_GROUP }).resolves({
    ModelPackageSummaryList: [{ ModelPackageArn: rulArn, ModelPackageVersion: 1, CreationTime: new Date('2026-03-02T00:00:00Z'), ModelPackageStatus: 'Completed', ModelApprovalStatus: 'PendingManualApproval' }],
  });
  sm.on(DescribeModelPackageCommand, { ModelPackageName: rulArn }).resolves({
    ModelPackageArn: rulArn,
    ModelPackageGroupName: RUL_GROUP,
    ModelPackageVersion: 1,
    ModelPackageStatus: 'Completed',
    ModelApprovalStatus: 'PendingManualApproval',
    CreationTime: new Date('2026-03-02T00:00:00Z'),
    InferenceSpecification: { Containers: [{ Image: 'img', ModelDataUrl: 's3://b/models/job-9/output/model.tar.gz' }] },
    ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: 's3://b/evaluations/job-9.json' } } },
    CustomerMetadataProperties: {
      'pdm.sha256': rulSha,
      'pdm.source': 'training-job:job-9',
      'pdm.predictor': 'rul',
      ...(o.decision === false ? {} : { 'pdm.decision': 's3://b/evaluations/job-9.decision.json' }),
    },
  });
  const objects: Record<string, Uint8Array> = {
    'models/job-9/output/model.tar.gz': gzipSync(ustarSingleFile('xgboost-model', rulModel)),
    'evaluations/job-9.json': enc({
      trainingJob: 'job-9',
      holdout: { rows: 300, from: '2026-03-01T00:00:00.000Z', trainRows: 900, validationRows: 250, validFrom: '2026-02-20T00:00:00.000Z' },
      metrics: { rows: 300, rmse: 20.5, intervalCoverage: 0.88, intervalMedianWidth: 18 },
      champion: { sha256: rulEntry.sha256, metrics: { rows: 300, rmse: 22 } },
    }),
    'evaluations/job-9.decision.json': enc({ schema: 'pdm.model-decision.v1', kind: 'rul', sha256: o.decisionSha ?? rulSha, interval }),
  };
  for (const [key, body] of Object.entries(objects)) {
    s3.on(GetObjectCommand, { Bucket: 'b', Key: key }).resolves({ Body: { transformToByteArray: async () => body } as never });
  }
}

/** A registry whose pump champion has an RUL interval (fitted on that champion's residuals). */
function registryWithRulInterval(): string {
  const d = tempRegistry();
  const { versions } = registerBundle(d, 'layers/model', {
    only: ['centrifugal-pump'],
    source: (m) => ({ kind: 'import', bundle: 'layers/model', bundleCreatedAt: m.createdAt, importedAt: '2026-01-01T00:00:00.000Z' }),
    git: { commit: null, dirty: null },
  });
  const v = versions[0]!;
  const blobOf = new Map(v.files.map((f) => [f.file, f.blob]));
  const withInterval = registerVersion(d, {
    assetModel: v.assetModel,
    entry: { ...v.entry, predictors: v.entry.predictors.map((p) => (p.name === 'rul' ? { ...p, interval: { ...interval, calibration: 'the old model' } } : p)) } as Parameters<typeof registerVersion>[1]['entry'],
    readFile: (file) => readBlob(d, blobOf.get(file)!),
    featureEngineVersion: v.featureEngineVersion,
    created: v.created,
    source: v.source,
    git: v.git,
  });
  adoptImported(d, [withInterval], 'test');
  return d;
}

let dir: string;
const deps = () => ({ registry: new SageMakerModelRegistry(new SageMakerClient({ region: 'eu-west-1' })), getObject: s3Reader(new S3Client({ region: 'eu-west-1' })) });
const opts = () => ({ stage: 'dev', assetModel: 'centrifugal-pump', registryDir: dir, git: { commit: null, dirty: null }, at: '2026-03-03T00:00:00.000Z' });

beforeEach(() => {
  dir = tempRegistry();
  const { versions } = registerBundle(dir, 'layers/model', {
    only: ['centrifugal-pump'],
    source: (m) => ({ kind: 'import', bundle: 'layers/model', bundleCreatedAt: m.createdAt, importedAt: '2026-01-01T00:00:00.000Z' }),
    git: { commit: null, dirty: null },
  });
  adoptImported(dir, versions, 'test');
});

afterEach(() => {
  sm.reset();
  s3.reset();
});

describe('pullVersion', () => {
  it('registers the newest version as a local version: its file, own calibration and thresholds, the champion measured on the same held-out slice', async () => {
    mockStage();

    const r = await pullVersion(deps(), { ...opts(), predictor: 'failure' });

    expect(r.record!.id).toBe('centrifugal-pump@2');
    expect(r.pulled).toEqual([expect.objectContaining({ predictor: 'failure', version: 3, file: 'centrifugal-pump/failure.ubj', sha256: modelSha, comparable: true, rewroteBaseScore: false })]);
    const entry = r.record!.entry.predictors.find((p) => p.name === 'failure')! as Record<string, unknown>;
    expect(entry).toMatchObject({ file: 'centrifugal-pump/failure.ubj', sha256: modelSha, numTrees: 1, calibration, alertThresholds, threshold: 0.4 });
    expect(entry.metrics).toEqual({ rows: 300, positives: 30, prAuc: 0.93, prAucRaw: 0.94, brier: 0.05, falseAlerts: 1 });
    expect(entry.params).toMatchObject({ trainingJob: 'job-3', modelPackage: arn(3) });
    // The RUL predictor keeps the champion's file.
    const rul = shipped.models['centrifugal-pump']!.predictors.find((p) => p.name === 'rul')!;
    expect(r.record!.entry.predictors.find((p) => p.name === 'rul')!.sha256).toBe(rul.sha256);
    expect(r.record!.source).toMatchObject({ kind: 'sagemaker', stage: 'dev', from: 'centrifugal-pump@1', packages: [{ predictor: 'failure', version: 3, trainingJob: 'job-3', sha256: modelSha }] });
    expect(r.record!.comparedWith).toEqual({ version: 'centrifugal-pump@1', evaluation: r.record!.evaluations[0]!.id, metrics: { 'failure.rows': 300, 'failure.positives': 30, 'failure.prAuc': 0.9, 'failure.falseAlerts': 2 } });
    expect(r.gate).toMatchObject({ pass: true });
    expect(readBlob(dir, r.record!.files.find((f) => f.file === 'centrifugal-pump/failure.ubj')!.blob)).toEqual(model);
  });

  it('closes the loop: promote rebuilds a bundle whose failure file is the package\'s, so check --stage agrees once it is approved', async () => {
    mockStage();
    const r = await pullVersion(deps(), opts());
    const bundle = join(tempRegistry(), 'bundle');

    // Without --predictor every predictor is looked at; the RUL group has no version yet.
    expect(r.skipped).toEqual([{ predictor: 'rul', reason: 'pdm-dev-centrifugal-pump-rul has no version that is Completed and not Rejected' }]);
    promote(dir, r.record!.id, { bundleDir: bundle });

    expect(championOf(dir, 'centrifugal-pump')!.id).toBe(r.record!.id);
    const { manifest } = readBundle(bundle);
    expect(manifest.models['centrifugal-pump']!.predictors.find((p) => p.name === 'failure')!.sha256).toBe(modelSha);
    // After `pdm models approve --stage dev … --version 3`, version 3 is the group's newest Approved version.
    sm.on(ListModelPackagesCommand, { ModelPackageGroupName: GROUP, ModelApprovalStatus: 'Approved' }).resolves({ ModelPackageSummaryList: [{ ModelPackageArn: arn(3), ModelPackageVersion: 3, CreationTime: new Date('2026-03-02T00:00:00Z'), ModelPackageStatus: 'Completed', ModelApprovalStatus: 'Approved' }] });
    const rows = await checkDeployed(new SageMakerModelRegistry(new SageMakerClient({ region: 'eu-west-1' })), 'dev', manifest, [{ assetModel: 'centrifugal-pump', predictor: 'failure' }]);
    expect(rows[0]).toMatchObject({ ok: true, championVersion: 3 });
  });

  it("refuses a classifier version without a calibration of its own while the champion's maps the old model", async () => {
    mockStage({ decision: false });
    await expect(pullVersion(deps(), { ...opts(), predictor: 'failure' })).rejects.toThrow(/no calibration or alert thresholds of its own/);
  });

  it('refuses a model file whose sha256 differs from the version\'s record, and --version without --predictor', async () => {
    mockStage({ recordedSha: 'f'.repeat(64) });
    await expect(pullVersion(deps(), { ...opts(), predictor: 'failure' })).rejects.toThrow(PullError);
    await expect(pullVersion(deps(), { ...opts(), version: 3 })).rejects.toThrow(/--predictor/);
  });

  it('registers nothing when the newest version already is the champion\'s file', async () => {
    mockStage({ recordedSha: failure.sha256 });
    const r = await pullVersion(deps(), { ...opts(), predictor: 'failure' });
    expect(r.record).toBeNull();
    expect(r.skipped).toEqual([{ predictor: 'failure', reason: expect.stringMatching(/already centrifugal-pump@1's file/) }]);
  });

  it('takes a pulled RUL version\'s own interval from its decision JSON, with its held-out coverage', async () => {
    mockRulStage();

    const r = await pullVersion(deps(), { ...opts(), registryDir: registryWithRulInterval(), predictor: 'rul' });

    const entry = r.record!.entry.predictors.find((p) => p.name === 'rul')! as Record<string, unknown>;
    expect(entry).toMatchObject({ sha256: rulSha, interval });
    expect(entry.metrics).toEqual({ rows: 300, rmseHours: 20.5, intervalCoverage: 0.88, intervalMedianWidthHours: 18 });
  });

  it('refuses an RUL version without an interval of its own while the champion has one, or one fitted for another file', async () => {
    mockRulStage({ decision: false });
    await expect(pullVersion(deps(), { ...opts(), registryDir: registryWithRulInterval(), predictor: 'rul' })).rejects.toThrow(/no RUL interval of its own/);
    sm.reset();
    s3.reset();
    mockRulStage({ decisionSha: 'e'.repeat(64) });
    await expect(pullVersion(deps(), { ...opts(), registryDir: registryWithRulInterval(), predictor: 'rul' })).rejects.toThrow(/was fitted for the model file e{64}/);
  });

  it('pulls an RUL version without an interval when the champion serves none either', async () => {
    mockRulStage({ decision: false });
    const r = await pullVersion(deps(), { ...opts(), predictor: 'rul' });
    expect(r.record!.entry.predictors.find((p) => p.name === 'rul')!).not.toHaveProperty('interval');
  });
});
