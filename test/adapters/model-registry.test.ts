import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateModelPackageCommand,
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  METADATA,
  metricsOf,
  ModelPackageNotReadyError,
  ModelRegistryError,
  RollbackError,
  SageMakerModelRegistry,
  type RegisterInput,
} from '../../lambdas/adapters/aws/model-registry.ts';
import { singleTarFile } from '../../lambdas/core/model/tar.ts';

const sm = mockClient(SageMakerClient);
const s3 = mockClient(S3Client);
const sleeps: number[] = [];
const registry = (opts = {}) =>
  new SageMakerModelRegistry(new SageMakerClient({ region: 'eu-west-1' }), new S3Client({ region: 'eu-west-1' }), {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...opts,
  });
const GROUP = 'pdm-dev-centrifugal-pump-failure';
const arn = (v: number) => `arn:aws:sagemaker:eu-west-1:123456789012:model-package/${GROUP}/${v}`;
const summary = (v: number, day: number, approval: 'Approved' | 'Rejected' | 'PendingManualApproval') => ({
  ModelPackageGroupName: GROUP,
  ModelPackageVersion: v,
  ModelPackageArn: arn(v),
  CreationTime: new Date(Date.UTC(2026, 0, day)),
  ModelPackageStatus: 'Completed' as const,
  ModelApprovalStatus: approval,
});
const input: RegisterInput = {
  group: GROUP,
  image: '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5',
  modelDataUrl: 's3://bucket/retrain/models/job-1/output/model.tar.gz',
  evaluationUri: 's3://bucket/retrain/evaluations/job-1.json',
  metrics: { prAuc: 0.91, rows: 120 },
  versionId: 'training-job:job-1',
  sha256: 'a'.repeat(64),
  assetModel: 'centrifugal-pump',
  predictor: 'failure',
  source: 'training-job:job-1',
};

afterEach(() => {
  sm.reset();
  s3.reset();
  sleeps.length = 0;
});

describe('SageMakerModelRegistry', () => {
  it('registers a versioned package pending approval with the XGBoost image, the evaluation file and scalar metadata, then waits for Completed', async () => {
    // Arrange: creation is asynchronous; the package goes Pending → InProgress → Completed.
    sm.on(CreateModelPackageCommand).resolves({ ModelPackageArn: arn(4) });
    sm.on(DescribeModelPackageCommand)
      .resolvesOnce({ ModelPackageArn: arn(4), ModelPackageStatus: 'Pending' })
      .resolvesOnce({ ModelPackageArn: arn(4), ModelPackageStatus: 'InProgress' })
      .resolves({ ModelPackageArn: arn(4), ModelPackageGroupName: GROUP, ModelPackageVersion: 4, ModelPackageStatus: 'Completed', ModelApprovalStatus: 'PendingManualApproval' });

    // Act
    const v = await registry().register(input);

    // Assert
    const req = sm.commandCalls(CreateModelPackageCommand)[0]!.args[0].input;
    expect(req.ModelPackageGroupName).toBe(GROUP);
    expect(req).not.toHaveProperty('ModelPackageName');
    expect(req.ModelApprovalStatus).toBe('PendingManualApproval');
    expect(req.InferenceSpecification?.Containers).toEqual([{ Image: input.image, ModelDataUrl: input.modelDataUrl }]);
    expect(req.ModelMetrics?.ModelQuality?.Statistics).toEqual({ ContentType: 'application/json', S3Uri: input.evaluationUri });
    expect(req.CustomerMetadataProperties).toMatchObject({
      [METADATA.versionId]: 'training-job:job-1',
      [METADATA.sha256]: 'a'.repeat(64),
      'metric.prAuc': '0.91',
      'metric.rows': '120',
      xgboost: '3.0.5',
    });
    expect(metricsOf(req.CustomerMetadataProperties)).toEqual({ prAuc: 0.91, rows: 120 });
    expect(v).toMatchObject({ arn: arn(4), version: 4, status: 'Completed', approval: 'PendingManualApproval' });
    expect(sleeps).toEqual([500, 1000]);
  });

  it("records a retrained classifier's decision JSON and compact thresholds, and describes where a version's files are", async () => {
    sm.on(CreateModelPackageCommand).resolves({ ModelPackageArn: arn(4) });
    sm.on(DescribeModelPackageCommand).resolves({
      ModelPackageArn: arn(4),
      ModelPackageStatus: 'Completed',
      InferenceSpecification: { Containers: [{ Image: input.image, ModelDataUrl: input.modelDataUrl }] },
      ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: input.evaluationUri } } },
    });

    const v = await registry().register({ ...input, decisionUri: 's3://bucket/evaluations/job-1.decision.json', alertThresholds: { watch: 0.245, warning: 0.49, critical: 0.99 } });

    const md = sm.commandCalls(CreateModelPackageCommand)[0]!.args[0].input.CustomerMetadataProperties!;
    expect(md[METADATA.decision]).toBe('s3://bucket/evaluations/job-1.decision.json');
    expect(JSON.parse(md[METADATA.alertThresholds]!)).toEqual({ watch: 0.245, warning: 0.49, critical: 0.99 });
    const d = await registry().describe(v.arn);
    expect(d).toMatchObject({ modelDataUrl: input.modelDataUrl, evaluationUri: input.evaluationUri });
  });

  it('fails a registration whose package ends Failed, and one still pending after the timeout', async () => {
    sm.on(CreateModelPackageCommand).resolves({ ModelPackageArn: arn(5) });
    sm.on(DescribeModelPackageCommand).resolvesOnce({ ModelPackageStatus: 'InProgress' }).resolves({ ModelPackageStatus: 'Failed' });
    await expect(registry().register(input)).rejects.toThrow(ModelPackageNotReadyError);

    sm.reset();
    sm.on(CreateModelPackageCommand).resolves({ ModelPackageArn: arn(6) });
    sm.on(DescribeModelPackageCommand).resolves({ ModelPackageStatus: 'Pending' });
    await expect(registry({ timeoutMs: 1_000 }).register(input)).rejects.toThrow(/still Pending after/);
  });

  it('uploads one xgboost-model file in model.tar.gz and the evaluation JSON, returning their URIs and the file sha256', async () => {
    s3.on(PutObjectCommand).resolves({});
    const file = new TextEncoder().encode('{"learner":{}}');

    const out = await registry().upload('bucket', 'registry/centrifugal-pump/failure/v1/', { modelFile: file, evaluation: { prAuc: 0.9 } });

    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual(['registry/centrifugal-pump/failure/v1/model.tar.gz', 'registry/centrifugal-pump/failure/v1/evaluation.json']);
    const inner = singleTarFile(gunzipSync(puts[0]!.Body as Uint8Array));
    expect(inner.name).toBe('xgboost-model');
    expect(new TextDecoder().decode(inner.content)).toBe('{"learner":{}}');
    expect(JSON.parse(String(puts[1]!.Body))).toEqual({ prAuc: 0.9 });
    expect(out).toEqual({
      modelDataUrl: 's3://bucket/registry/centrifugal-pump/failure/v1/model.tar.gz',
      evaluationUri: 's3://bucket/registry/centrifugal-pump/failure/v1/evaluation.json',
      sha256: createHash('sha256').update(file).digest('hex'),
    });
  });

  it('lists every page newest first, asking for CreationTime Descending explicitly', async () => {
    // Arrange: two pages; the second holds the newest, so a first-item-of-first-page rule would be wrong.
    sm.on(ListModelPackagesCommand)
      .resolvesOnce({ ModelPackageSummaryList: [summary(2, 2, 'Approved'), summary(1, 1, 'Approved')], NextToken: 'next' })
      .resolves({ ModelPackageSummaryList: [summary(3, 3, 'PendingManualApproval')] });

    const versions = await registry().list(GROUP);

    expect(versions.map((v) => v.version)).toEqual([3, 2, 1]);
    const calls = sm.commandCalls(ListModelPackagesCommand).map((c) => c.args[0].input);
    expect(calls[0]).toMatchObject({ ModelPackageGroupName: GROUP, SortBy: 'CreationTime', SortOrder: 'Descending' });
    expect(calls[1]).toMatchObject({ NextToken: 'next' });
  });

  it('takes the newest Approved version as champion, even when the service returns the oldest first', async () => {
    sm.on(ListModelPackagesCommand, { ModelApprovalStatus: 'Approved' }).resolves({
      ModelPackageSummaryList: [summary(1, 1, 'Approved'), summary(3, 3, 'Approved')],
    });

    const champion = await registry().champion(GROUP);

    expect(champion?.version).toBe(3);
    expect(sm.commandCalls(ListModelPackagesCommand)[0]!.args[0].input.ModelApprovalStatus).toBe('Approved');
  });

  it('approves a Completed version and refuses one still in progress', async () => {
    sm.on(DescribeModelPackageCommand, { ModelPackageName: arn(4) }).resolves({ ModelPackageArn: arn(4), ModelPackageGroupName: GROUP, ModelPackageVersion: 4, ModelPackageStatus: 'Completed' });
    sm.on(DescribeModelPackageCommand, { ModelPackageName: arn(5) }).resolves({ ModelPackageArn: arn(5), ModelPackageStatus: 'InProgress' });
    sm.on(UpdateModelPackageCommand).resolves({ ModelPackageArn: arn(4) });
    sm.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [summary(4, 4, 'Approved'), summary(2, 2, 'Approved')] });

    const out = await registry().approve(arn(4), 'gate passed');

    expect(sm.commandCalls(UpdateModelPackageCommand)[0]!.args[0].input).toEqual({ ModelPackageArn: arn(4), ModelApprovalStatus: 'Approved', ApprovalDescription: 'gate passed' });
    expect(out.champion?.version).toBe(4);
    await expect(registry().approve(arn(5), 'x')).rejects.toThrow(ModelPackageNotReadyError);
  });

  it('rolls back by rejecting the champion, so the newest earlier Approved version serves again', async () => {
    sm.on(ListModelPackagesCommand, { ModelApprovalStatus: 'Approved' }).resolves({
      ModelPackageSummaryList: [summary(2, 2, 'Approved'), summary(5, 5, 'Approved'), summary(1, 1, 'Approved')],
    });
    sm.on(UpdateModelPackageCommand).resolves({});

    const out = await registry().rollback(GROUP, 'false alarms');

    expect(sm.commandCalls(UpdateModelPackageCommand).map((c) => c.args[0].input)).toEqual([
      { ModelPackageArn: arn(5), ModelApprovalStatus: 'Rejected', ApprovalDescription: 'rolled back: false alarms' },
    ]);
    expect(out.rejected.version).toBe(5);
    expect(out.champion.version).toBe(2);
  });

  it('refuses to roll back without an earlier approved version', async () => {
    sm.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [summary(1, 1, 'Approved')] });
    await expect(registry().rollback(GROUP, 'x')).rejects.toThrow(RollbackError);
    sm.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [] });
    await expect(registry().rollback(GROUP, 'x')).rejects.toThrow(/no approved version/);
    expect(sm.commandCalls(UpdateModelPackageCommand)).toHaveLength(0);
  });

  it('refuses metadata SageMaker would reject', async () => {
    const metrics = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`m${i}`, i]));
    await expect(registry().register({ ...input, metrics })).rejects.toThrow(ModelRegistryError);
    expect(sm.commandCalls(CreateModelPackageCommand)).toHaveLength(0);
  });
});
