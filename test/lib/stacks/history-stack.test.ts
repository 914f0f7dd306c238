import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_TABLES } from '../../../lambdas/core/history/tables.ts';
import { HistoryConfigError, HistoryStack, type HistoryStackProps } from '../../../lib/stacks/history-stack.ts';
import { buildTestApp, TEST_ENV } from '../fixtures.ts';

function standalone(overrides: Partial<HistoryStackProps> = {}): HistoryStack {
  const app = new App();
  const deps = new Stack(app, 'Deps', { env: TEST_ENV });
  return new HistoryStack(app, 'History', {
    env: TEST_ENV,
    stage: 'dev',
    dataRemovalPolicy: 'retain',
    accessLogsBucket: new s3.Bucket(deps, 'Logs'),
    twinsTable: new dynamodb.Table(deps, 'Twins', { partitionKey: { name: 'assetId', type: dynamodb.AttributeType.STRING } }),
    key: new kms.Key(deps, 'Key'),
    ...overrides,
  });
}

describe('HistoryStack', () => {
  let template: Template;
  let built: ReturnType<typeof buildTestApp>;

  beforeAll(() => {
    built = buildTestApp({ scoring: { mode: 'in-lambda' } });
    template = Template.fromStack(built.stacks.history);
  });

  it('encrypts its buckets and streams with the stage’s data key instead of a key of its own', () => {
    template.resourceCountIs('AWS::KMS::Key', 0);
    const stateful = Template.fromStack(built.stacks.stateful);
    const [keyId] = Object.keys(stateful.findResources('AWS::KMS::Key'));
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
    expect(buckets.length).toBeGreaterThan(0);
    for (const b of buckets) expect(JSON.stringify(b)).toContain(keyId);
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: Match.anyValue() },
    });
  });

  it('creates one Iceberg v2 table per history table in one Glue database, schema version as a property', () => {
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'pdm_dev_history' } });
    template.resourceCountIs('AWS::Glue::Table', HISTORY_TABLES.length);
    template.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: 'pdm_dev_history',
      Name: 'telemetry',
      TableInput: Match.absent(),
      OpenTableFormatInput: {
        IcebergInput: {
          MetadataOperation: 'CREATE',
          Version: '2',
          IcebergTableInput: {
            Schema: { Fields: Match.arrayWith([Match.objectLike({ Id: 4, Name: 'ts', Type: 'timestamp', Required: true })]) },
            PartitionSpec: {
              Fields: [
                { SourceId: 4, Transform: 'day', Name: 'ts_day', FieldId: 1000 },
                { SourceId: 1, Transform: 'bucket[16]', Name: 'asset_id_bucket', FieldId: 1001 },
              ],
            },
            Properties: Match.objectLike({ 'pdm.schema-version': '2' }),
          },
        },
      },
    });
    // Schema 2 appended the role of a prediction (champion | challenger) as the last column.
    template.hasResourceProperties('AWS::Glue::Table', {
      Name: 'predictions',
      OpenTableFormatInput: {
        IcebergInput: Match.objectLike({
          IcebergTableInput: Match.objectLike({
            Schema: { Fields: Match.arrayWith([Match.objectLike({ Id: 11, Name: 'model_version' }), Match.objectLike({ Id: 12, Name: 'role', Type: 'string', Required: false })]) },
          }),
        }),
      },
    });
  });

  it('delivers each table through its own encrypted, append-only Direct PUT stream into the Iceberg table', () => {
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', HISTORY_TABLES.length);
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamName: 'pdm-dev-history-alerts',
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: Match.objectLike({ KeyType: 'CUSTOMER_MANAGED_CMK' }),
      IcebergDestinationConfiguration: Match.objectLike({
        AppendOnly: true,
        CatalogConfiguration: { CatalogArn: Match.anyValue() },
        DestinationTableConfigurationList: [{ DestinationDatabaseName: 'pdm_dev_history', DestinationTableName: 'alerts', S3ErrorOutputPrefix: 'errors/alerts/' }],
        s3BackupMode: 'FailedDataOnly',
      }),
    });
  });

  it('runs Athena in a workgroup that enforces encrypted results and a bytes-scanned limit', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'pdm-dev-history',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 1024 ** 3,
        PublishCloudWatchMetricsEnabled: true,
        ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() } },
      },
    });
  });

  it('never expires table data by lifecycle, only delivery errors and query results', () => {
    const buckets = Object.values(template.findResources('AWS::S3::Bucket')) as { Properties: { LifecycleConfiguration: { Rules: { Prefix?: string; ExpirationInDays?: number }[] } } }[];
    expect(buckets).toHaveLength(2);
    const expiring = buckets.flatMap((b) => b.Properties.LifecycleConfiguration.Rules.filter((r) => r.ExpirationInDays !== undefined));
    expect(expiring).toHaveLength(2);
    expect(expiring.filter((r) => r.Prefix === undefined)).toHaveLength(1); // the results bucket
    expect(expiring.some((r) => r.Prefix === 'errors/')).toBe(true);
  });

  it('exports a read-only policy and role: Athena in its workgroup, catalog reads, twin reads, no writes to tables', () => {
    const policy = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).find((p) => JSON.stringify(p).includes('pdm-dev-history-reader')) as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } };
    const actions = policy.Properties.PolicyDocument.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toEqual(expect.arrayContaining(['athena:StartQueryExecution', 'glue:GetTable', 'dynamodb:Scan', 'dynamodb:GetItem']));
    expect(actions.filter((a) => /^(dynamodb:(Put|Update|Delete)|glue:(Update|Create|Delete)|firehose:)/.test(a))).toEqual([]);
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'pdm-dev-dashboard-reader' });
    template.hasOutput('ReaderRoleArn', { Export: { Name: 'pdm-dev-dashboard-reader-role' } });
  });

  it('gives the pipeline functions the stream names and the writer policy', () => {
    const processing = Template.fromStack(built.stacks.processing);
    const fns = processing.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { PDM_HISTORY_STREAMS: Match.anyValue() } } } });
    expect(Object.keys(fns)).toHaveLength(2);
    const env = JSON.parse((Object.values(fns)[0] as { Properties: { Environment: { Variables: { PDM_HISTORY_STREAMS: string } } } }).Properties.Environment.Variables.PDM_HISTORY_STREAMS) as Record<string, string>;
    expect(env.telemetry).toBe('pdm-dev-history-telemetry');
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'] })] },
    });
  });

  it('refuses a scan limit under Athena’s minimum and a buffer Firehose does not allow', () => {
    expect(() => standalone({ bytesScannedCutoffPerQuery: 1_000 })).toThrow(HistoryConfigError);
    expect(() => standalone({ bufferSeconds: 901 })).toThrow(/bufferSeconds/);
    expect(() => standalone({ bytesScannedCutoffPerQuery: 10_000_000 })).not.toThrow();
  });
});
