import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../../lambdas/core/config/env.ts';
import { parseStageConfig } from '../../../lib/config.ts';
import { ContradictoryPropsError } from '../../../lib/constructs/pdm-function.ts';
import { ProcessingStack, type ProcessingStackProps } from '../../../lib/stacks/processing-stack.ts';
import { buildTestApp, ENDPOINT_SCORING, TEST_ENV } from '../fixtures.ts';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

function statementsOf(template: Template, rolePrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([id]) => id.startsWith(rolePrefix))
    .flatMap(([, p]) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
}

interface FunctionProps {
  readonly Architectures: string[];
  readonly Runtime: string;
  readonly TracingConfig: unknown;
  readonly Environment: { readonly Variables: Record<string, unknown> };
  readonly LoggingConfig: { readonly LogGroup?: unknown };
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('ProcessingStack', () => {
  let template: Template;
  let timestreamTemplate: Template;

  beforeAll(() => {
    const { stacks } = buildTestApp({ scoring: ENDPOINT_SCORING, clean: { batchSize: 250, maxBatchingWindowSeconds: 2, retryAttempts: 5, maxRecordAgeSeconds: 7200 } });
    template = Template.fromStack(stacks.processing);
    const withTimestream = buildTestApp({ timestream: { enabled: true }, scoring: { mode: 'in-lambda' } });
    timestreamTemplate = Template.fromStack(withTimestream.stacks.processing);
  });

  it('gives both stream consumers all five safeguards and the configured batching', () => {
    const safeguards = {
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    };

    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ...safeguards,
      BatchSize: 250,
      MaximumBatchingWindowInSeconds: 2,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 7200,
    });
    // The features consumer keeps its own defaults: five minutes of samples per twin write.
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ...safeguards,
      BatchSize: 10_000,
      MaximumBatchingWindowInSeconds: 300,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
    });
  });

  it('runs both functions on arm64 with the fixed runtime, tracing, JSON logs and source maps', () => {
    const functions = template.findResources('AWS::Lambda::Function');

    expect(Object.keys(functions)).toHaveLength(2);
    for (const fn of Object.values(functions)) {
      const p = (fn as { Properties: FunctionProps }).Properties;
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.Runtime).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
      expect(p.TracingConfig).toEqual({ Mode: 'Active' });
      expect(p.Environment.Variables['NODE_OPTIONS']).toBe('--enable-source-maps');
      expect(p.LoggingConfig.LogGroup).toBeDefined();
    }
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('sets exactly the ENV contract names on each function', () => {
    const contract = new Set<string>(Object.values(ENV));
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{ Properties: { Environment: { Variables: Record<string, unknown> } } }>;
    const names = functions.map((f) => Object.keys(f.Properties.Environment.Variables).filter((n) => n !== 'NODE_OPTIONS').sort());

    for (const list of names) for (const n of list) expect(contract.has(n)).toBe(true);
    expect(names).toContainEqual([ENV.assetTable, ENV.cleanStream, ENV.historyStreams, ENV.quarantineBucket, ENV.telemetryStore].sort());
    expect(names).toContainEqual(
      [
        ENV.assetTable, ENV.driftEvaluateSeconds, ENV.driftMinCount, ENV.driftTable, ENV.driftWindowHours, ENV.endpointTimeoutMs, ENV.endpoints,
        ENV.eventBus, ENV.historyStreams, ENV.modelDir, ENV.quarantineBucket, ENV.scoringMode, ENV.shadowScoring, ENV.telemetryStore,
        ENV.twinTable,
      ].sort(),
    );
  });

  it('gives the feature function the drift window settings and only UpdateItem + Query on the drift table', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ [ENV.driftWindowHours]: '24', [ENV.driftMinCount]: '500', [ENV.driftEvaluateSeconds]: '60' }),
      },
    });
    const drift = statementsOf(template, 'Features').filter((s) => actionsOf(s).includes('dynamodb:Query'));

    expect(drift).toHaveLength(1);
    expect(actionsOf(drift[0]!).sort()).toEqual(['dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(JSON.stringify(drift[0]!.Resource)).toMatch(/DriftTable/);
  });

  it('passes the endpoint map and the endpoint scoring mode to the feature function', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.scoringMode]: 'endpoint',
          [ENV.endpoints]: Match.serializedJson(Match.objectLike({ 'centrifugal-pump/failure': 'pdm-dev-centrifugal-pump-failure' })),
          [ENV.modelDir]: '/opt/model',
        }),
      },
    });
  });

  it('turns shadow scoring on by default and off with models.shadow = false', () => {
    const off = Template.fromStack(buildTestApp({ models: { shadow: false } }).stacks.processing);

    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.modelDir]: '/opt/model', [ENV.shadowScoring]: 'on' }) },
    });
    off.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.modelDir]: '/opt/model', [ENV.shadowScoring]: 'off' }) },
    });
  });

  it('attaches the model layer to the feature function only', () => {
    const layers = template.findResources('AWS::Lambda::LayerVersion');
    const [layerId] = Object.keys(layers);

    expect(Object.keys(layers)).toHaveLength(1);
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Rolling features'), Layers: [{ Ref: layerId }] });
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Validates'), Layers: Match.absent() });
  });

  it('uses "*" only for actions without resource-level permissions', () => {
    const wildcard = [...statementsOf(template, 'Clean'), ...statementsOf(template, 'Features'), ...statementsOf(timestreamTemplate, 'Clean'), ...statementsOf(timestreamTemplate, 'Features')].filter(
      (s) => s.Resource === '*' || (Array.isArray(s.Resource) && s.Resource.includes('*')),
    );

    expect(wildcard.length).toBeGreaterThan(0);
    for (const s of wildcard) {
      for (const a of actionsOf(s)) expect(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'timestream:DescribeEndpoints']).toContain(a);
    }
  });

  it('grants neither function Encrypt or ReEncrypt on the data key', () => {
    for (const fn of ['Clean', 'Features']) {
      const kms = statementsOf(template, fn).flatMap(actionsOf).filter((x) => x.startsWith('kms:'));

      expect(kms.length).toBeGreaterThan(0);
      for (const x of kms) expect(['kms:Decrypt', 'kms:GenerateDataKey']).toContain(x);
    }
  });

  it('lets the clean function only read assets by key', () => {
    const dynamo = statementsOf(template, 'Clean').flatMap(actionsOf).filter((x) => x.startsWith('dynamodb:'));

    expect(dynamo.sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem']);
  });

  it('lets the feature function read, put and update twins but not delete, batch-write or scan them', () => {
    const dynamo = new Set(statementsOf(template, 'Features').flatMap(actionsOf).filter((x) => x.startsWith('dynamodb:')));

    // Query is the drift window's (scoped to the drift table in the test above).
    expect([...dynamo].sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
  });

  it('grants InvokeEndpoint on the named endpoints only', () => {
    const invoke = statementsOf(template, 'Features').filter((s) => actionsOf(s).includes('sagemaker:InvokeEndpoint'));

    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0]!.Resource)).toContain(':endpoint/pdm-dev-centrifugal-pump-failure');
    expect(JSON.stringify(invoke[0]!.Resource)).not.toContain('endpoint/*');
  });

  it('scopes Timestream writes to the tables and sets the store names when enabled', () => {
    const writes = statementsOf(timestreamTemplate, 'Features').filter((s) => actionsOf(s).includes('timestream:WriteRecords'));

    expect(writes).toHaveLength(1);
    expect(writes[0]!.Resource).toHaveLength(2);
    timestreamTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.telemetryStore]: 'timestream',
          [ENV.timestreamDatabase]: 'pdm-dev-twin',
          [ENV.timestreamTelemetryTable]: 'telemetry',
        }),
      },
    });
    timestreamTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.scoringMode]: 'in-lambda', [ENV.endpoints]: Match.absent() }) },
    });
  });

  it('alarms on each stream iterator age with the stream dimension', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Kinesis',
      MetricName: 'GetRecords.IteratorAgeMilliseconds',
      Dimensions: [{ Name: 'StreamName', Value: Match.anyValue() }],
      AlarmActions: [Match.anyValue()],
    });
  });
});

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('ProcessingStack props', () => {
  function baseProps(stack: Stack, raw: unknown): ProcessingStackProps {
    const stream = (id: string) => kinesis.Stream.fromStreamArn(stack, id, `arn:aws:kinesis:eu-west-1:123456789012:stream/${id}`);
    return {
      env: TEST_ENV,
      config: parseStageConfig(raw),
      rawStream: stream('raw'),
      cleanStream: stream('clean'),
      assetsTable: dynamodb.Table.fromTableName(stack, 'A', 'assets'),
      twinsTable: dynamodb.Table.fromTableName(stack, 'T', 'twins'),
      quarantineBucket: s3.Bucket.fromBucketName(stack, 'Q', 'quarantine'),
      bus: events.EventBus.fromEventBusName(stack, 'B', 'bus'),
      cleanDlq: sqs.Queue.fromQueueArn(stack, 'D1', 'arn:aws:sqs:eu-west-1:123456789012:d1'),
      featuresDlq: sqs.Queue.fromQueueArn(stack, 'D2', 'arn:aws:sqs:eu-west-1:123456789012:d2'),
      opsTopic: sns.Topic.fromTopicArn(stack, 'O', 'arn:aws:sns:eu-west-1:123456789012:ops'),
    };
  }

  it.each([
    ['endpoint scoring without endpoints', { scoring: ENDPOINT_SCORING }, undefined, /needs the endpoint names/],
    ['in-lambda scoring with endpoints', { scoring: { mode: 'in-lambda' } }, { 'm/p': 'e' }, /deploys no endpoints/],
  ])('rejects %s', (_name, raw, endpoints, message) => {
    const app = new App();
    const imports = new Stack(app, 'Imports', { env: TEST_ENV });

    const error = errorOf(() => new ProcessingStack(app, 'P', { ...baseProps(imports, raw), endpoints }));

    expect(error).toBeInstanceOf(ContradictoryPropsError);
    expect(error.message).toMatch(message);
  });

  it('refuses to synthesise without a model bundle, which the feature function needs to start', () => {
    const app = new App();
    const imports = new Stack(app, 'Imports', { env: TEST_ENV });
    const layersDir = mkdtempSync(join(tmpdir(), 'pdm-layers-'));

    const error = errorOf(() => new ProcessingStack(app, 'P', { ...baseProps(imports, {}), layersDir }));

    expect(error).toBeInstanceOf(ContradictoryPropsError);
    expect(error.message).toMatch(/no model bundle at .*manifest\.json/);
  });

  it('rejects Timestream enabled without its resources', () => {
    const app = new App();
    const imports = new Stack(app, 'Imports', { env: TEST_ENV });

    const create = () => new ProcessingStack(app, 'P', { ...baseProps(imports, { timestream: { enabled: true }, scoring: { mode: 'in-lambda' } }) });

    expect(create).toThrow(/timestream.enabled is true/);
  });

  it('rejects a record age shorter than the batching window', () => {
    const app = new App();
    const imports = new Stack(app, 'Imports', { env: TEST_ENV });

    const create = () =>
      new ProcessingStack(app, 'P', { ...baseProps(imports, { scoring: { mode: 'in-lambda' }, clean: { maxRecordAgeSeconds: 60, maxBatchingWindowSeconds: 120 } }) });

    expect(create).toThrow(/every record would expire/);
  });
});
