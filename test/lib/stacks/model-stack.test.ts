import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseStageConfig } from '../../../lib/config.ts';
import { ContradictoryPropsError, PROJECT_ROOT } from '../../../lib/constructs/pdm-function.ts';
import { endpointName, ModelEndpoints } from '../../../lib/sagemaker/model-endpoints.ts';
import { checkServerlessQuota, ServerlessQuotaError } from '../../../lib/sagemaker/quota.ts';
import { ModelStack } from '../../../lib/stacks/model-stack.ts';
import { buildTestApp, ENDPOINT_SCORING, TEST_ENV } from '../fixtures.ts';

const bundleDir = join(PROJECT_ROOT, 'layers', 'model');
const manifest = JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8')) as { models: Record<string, { predictors: unknown[] }> };
const predictorCount = Object.values(manifest.models).reduce((n, m) => n + m.predictors.length, 0);

describe('ModelStack', () => {
  let serverless: Template;
  let instance: Template;

  beforeAll(() => {
    const app = new App();
    const config = parseStageConfig({ scoring: { ...ENDPOINT_SCORING, serverlessMemoryMb: 3072, serverlessMaxConcurrency: 7 } });
    const serverlessStack = new ModelStack(app, 'Serverless', { env: TEST_ENV, prefix: 'pdm-t', scoring: config.scoring, bundleDir });
    const instanceConfig = parseStageConfig({ scoring: { mode: 'instance', instanceType: 'ml.c5.large', instanceCount: 2 } });
    const instanceStack = new ModelStack(app, 'Instance', { env: TEST_ENV, prefix: 'pdm-t', scoring: instanceConfig.scoring, bundleDir });
    serverless = Template.fromStack(serverlessStack);
    instance = Template.fromStack(instanceStack);
  });

  it('creates one model, endpoint config and endpoint per predictor of the manifest', () => {
    serverless.resourceCountIs('AWS::SageMaker::Model', predictorCount);
    serverless.resourceCountIs('AWS::SageMaker::EndpointConfig', predictorCount);
    serverless.resourceCountIs('AWS::SageMaker::Endpoint', predictorCount);
  });

  it('serves each model with the built-in XGBoost 3.0-5 image of the stack region', () => {
    serverless.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { Image: '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5', ModelDataUrl: Match.anyValue(), Mode: 'SingleModel' },
    });
  });

  it('configures serverless variants with the configured memory and concurrency', () => {
    serverless.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ ServerlessConfig: { MemorySizeInMB: 3072, MaxConcurrency: 7 }, InstanceType: Match.absent() })],
      KmsKeyId: Match.absent(),
    });
  });

  it('configures instance variants in instance mode', () => {
    instance.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ InstanceType: 'ml.c5.large', InitialInstanceCount: 2, ServerlessConfig: Match.absent() })],
    });
  });

  it('names endpoints as the feature function expects', () => {
    serverless.hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: 'pdm-t-centrifugal-pump-failure' });
  });

  it('lets the execution role read only its model objects', () => {
    const policies = Object.values(serverless.findResources('AWS::IAM::Policy')) as Array<{ Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }>;
    const s3 = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s) => JSON.stringify(s.Action).includes('s3:'));

    const resources = s3.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));

    for (const s of s3) expect(s.Action).toBe('s3:GetObject');
    expect(resources).toHaveLength(predictorCount);
    // Each resource is one content-addressed object (CDK keeps the last extension, ".gz").
    for (const r of resources) expect(JSON.stringify(r)).toMatch(/\/[0-9a-f]{64}\.gz"\]\]\}$/);
  });

  it('gives every endpoint its own log group with a retention, and writes logs only there', () => {
    serverless.resourceCountIs('AWS::Logs::LogGroup', predictorCount);
    serverless.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/sagemaker/Endpoints/pdm-t-centrifugal-pump-failure', RetentionInDays: 30 });
    const policies = Object.values(serverless.findResources('AWS::IAM::Policy')) as Array<{ Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }>;
    const logs = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s) => JSON.stringify(s.Action).includes('logs:'));

    expect(logs).toHaveLength(predictorCount);
    for (const s of logs) expect(s.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/Logs/), 'Arn'] });
  });
});

describe('serverless quota check', () => {
  const build = (scoring: unknown) => () =>
    new ModelStack(new App(), 'M', { env: TEST_ENV, prefix: 'pdm-t', scoring: parseStageConfig({ scoring }).scoring, bundleDir });

  it('fails the synth naming the setting and the quota code when total concurrency exceeds the default quota', () => {
    expect(build({ mode: 'endpoint', serverlessQuota: { maxEndpoints: 50 } })).toThrow(ServerlessQuotaError);
    expect(build({ mode: 'endpoint', serverlessQuota: { maxEndpoints: 50 } })).toThrow(
      new RegExp(`${predictorCount} endpoints × pdm\\.scoring\\.serverlessMaxConcurrency 5 = ${predictorCount * 5} .*pdm\\.scoring\\.serverlessQuota\\.maxTotalConcurrency = 10.*L-96300102`),
    );
  });

  it('fails the synth when the bundle needs more endpoints than the quota allows', () => {
    expect(build({ mode: 'endpoint', serverlessMaxConcurrency: 1, serverlessQuota: { maxTotalConcurrency: 100 } })).toThrow(
      /pdm\.scoring\.serverlessQuota\.maxEndpoints = 5/,
    );
  });

  it('accepts endpoints that fit a raised quota', () => {
    expect(build({ mode: 'endpoint', serverlessMaxConcurrency: 2, serverlessQuota: { maxEndpoints: predictorCount, maxTotalConcurrency: 2 * predictorCount } })).not.toThrow();
  });

  it('does not apply the serverless quota to instance endpoints', () => {
    expect(build({ mode: 'instance' })).not.toThrow();
  });
});

describe('checkServerlessQuota', () => {
  it('accepts exactly the quota and rejects one more', () => {
    expect(() => checkServerlessQuota(5, 2, { maxEndpoints: 5, maxTotalConcurrency: 10 })).not.toThrow();
    expect(() => checkServerlessQuota(5, 3, { maxEndpoints: 5, maxTotalConcurrency: 10 })).toThrow(ServerlessQuotaError);
  });
});

describe('ModelEndpoints', () => {
  it('rejects both serverless and instance variants at once', () => {
    const stack = new Stack(new App(), 'S', { env: TEST_ENV });

    const create = () =>
      new ModelEndpoints(stack, 'E', { prefix: 'p', bundleDir, serverless: { memoryMb: 2048, maxConcurrency: 1 }, instance: { instanceType: 'ml.m5.large', instanceCount: 1 } });

    expect(create).toThrow(ContradictoryPropsError);
  });

  it('rejects an environment-agnostic stack', () => {
    const stack = new Stack(new App(), 'S');

    expect(() => new ModelEndpoints(stack, 'E', { prefix: 'p', bundleDir, serverless: { memoryMb: 2048, maxConcurrency: 1 } })).toThrow(/concrete region/);
  });

  it('fails synth with a clear error in a region without a known registry', () => {
    const stack = new Stack(new App(), 'S', { env: { region: 'xx-nowhere-1' } });

    expect(() => new ModelEndpoints(stack, 'E', { prefix: 'p', bundleDir, serverless: { memoryMb: 2048, maxConcurrency: 1 } })).toThrow(/no SageMaker built-in XGBoost registry/);
  });
});

describe('endpointName', () => {
  it('keeps names within 63 allowed characters and distinct when truncated', () => {
    const a = endpointName('pdm-stage', 'x'.repeat(60), 'failure-comp1');
    const b = endpointName('pdm-stage', 'x'.repeat(60), 'failure-comp2');

    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).toMatch(/^[a-z0-9-]+$/);
    expect(a).not.toBe(b);
  });
});

describe('in-lambda scoring', () => {
  it('deploys no SageMaker resources and no model stack', () => {
    const { stacks } = buildTestApp({ scoring: { mode: 'in-lambda' } });

    expect(stacks.model).toBeUndefined();
    const processing = Template.fromStack(stacks.processing);
    expect(Object.keys(processing.findResources('AWS::SageMaker::Endpoint'))).toHaveLength(0);
    expect(Object.keys(processing.findResources('AWS::SageMaker::EndpointConfig'))).toHaveLength(0);
  });
});
