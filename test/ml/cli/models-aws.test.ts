import { readFileSync } from 'node:fs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateModelPackageCommand, DescribeModelPackageCommand, ListModelPackagesCommand, SageMakerClient, UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SageMakerModelRegistry } from '../../../lambdas/adapters/aws/model-registry.ts';
import { parseManifest } from '../../../lambdas/core/model/bundle.ts';
import { checkDeployed, ModelsCommandError, registerBundlePredictor, selectPredictors } from '../../../ml/cli/models-aws.ts';

const sm = mockClient(SageMakerClient);
const s3 = mockClient(S3Client);
const manifest = parseManifest(readFileSync('layers/model/manifest.json', 'utf8'));
const failure = manifest.models['centrifugal-pump']!.predictors.find((p) => p.name === 'failure')!;
const registry = () => new SageMakerModelRegistry(new SageMakerClient({ region: 'eu-west-1' }), new S3Client({ region: 'eu-west-1' }), { sleep: async () => {} });
const pkg = (v: number) => `arn:aws:sagemaker:eu-west-1:123456789012:model-package/pdm-dev-centrifugal-pump-failure/${v}`;
const approved = (v: number) => ({ ModelPackageArn: pkg(v), ModelPackageVersion: v, CreationTime: new Date(v * 1000), ModelPackageStatus: 'Completed' as const, ModelApprovalStatus: 'Approved' as const });

afterEach(() => {
  sm.reset();
  s3.reset();
});

describe('registerBundlePredictor', () => {
  const opts = { stage: 'dev', bucket: 'b', image: 'img', bundleDir: 'layers/model', manifest, ref: { assetModel: 'centrifugal-pump', predictor: 'failure' }, approve: true };

  it('uploads the bundle file, registers it with its sha256 and manifest metrics, and approves it', async () => {
    sm.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [] });
    s3.on(PutObjectCommand).resolves({});
    sm.on(CreateModelPackageCommand).resolves({ ModelPackageArn: pkg(1) });
    sm.on(DescribeModelPackageCommand).resolves({ ModelPackageArn: pkg(1), ModelPackageVersion: 1, ModelPackageStatus: 'Completed' });
    sm.on(UpdateModelPackageCommand).resolves({});

    const r = await registerBundlePredictor(registry(), opts);

    const req = sm.commandCalls(CreateModelPackageCommand)[0]!.args[0].input;
    expect(req.ModelPackageGroupName).toBe('pdm-dev-centrifugal-pump-failure');
    expect(req.CustomerMetadataProperties?.['pdm.sha256']).toBe(failure.sha256);
    expect(req.CustomerMetadataProperties?.['metric.prAuc']).toBe(String(failure.metrics.prAuc));
    expect(sm.commandCalls(UpdateModelPackageCommand)[0]!.args[0].input.ModelApprovalStatus).toBe('Approved');
    expect(r).toMatchObject({ skipped: false, version: { version: 1, approval: 'Approved' } });
  });

  it('skips a file the champion already is', async () => {
    sm.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [approved(3)] });
    sm.on(DescribeModelPackageCommand).resolves({ ModelPackageArn: pkg(3), CustomerMetadataProperties: { 'pdm.sha256': failure.sha256 } });

    const r = await registerBundlePredictor(registry(), opts);

    expect(r.skipped).toBe(true);
    expect(sm.commandCalls(CreateModelPackageCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe('checkDeployed', () => {
  it('reports each predictor ok only when the newest Approved version carries the bundle file sha256', async () => {
    sm.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [approved(2), approved(5)] });
    sm.on(DescribeModelPackageCommand, { ModelPackageName: pkg(5) }).resolves({ CustomerMetadataProperties: { 'pdm.sha256': 'f'.repeat(64) } });

    const [row] = await checkDeployed(registry(), 'dev', manifest, [{ assetModel: 'centrifugal-pump', predictor: 'failure' }]);

    expect(row).toMatchObject({ championVersion: 5, championSha256: 'f'.repeat(64), ok: false });
  });

  it('refuses a predictor the bundle does not hold', () => {
    expect(() => selectPredictors(manifest, 'centrifugal-pump', 'nope')).toThrow(ModelsCommandError);
    expect(selectPredictors(manifest, 'industrial-machine')).toHaveLength(5);
  });
});
