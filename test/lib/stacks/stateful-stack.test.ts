import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../fixtures.ts';

describe('StatefulStack', () => {
  let template: Template;
  let keyId: string;
  let withTimestream: Template;

  beforeAll(() => {
    template = Template.fromStack(buildTestApp({ scoring: { mode: 'in-lambda' } }).stacks.stateful);
    keyId = Object.keys(template.findResources('AWS::KMS::Key'))[0]!;
    withTimestream = Template.fromStack(
      buildTestApp({ scoring: { mode: 'in-lambda' }, timestream: { enabled: true, memoryHours: 12, magneticDays: 90 }, streams: { mode: 'provisioned', rawShards: 2, cleanShards: 1 } }).stacks.stateful,
    );
  });

  it('creates one customer-managed key with rotation', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('encrypts both streams with the key, one provisioned shard each by default', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 2);
    template.allResourcesProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      ShardCount: 1,
    });
  });

  it('uses on-demand streams when configured', () => {
    const onDemand = Template.fromStack(buildTestApp({ streams: { mode: 'on-demand' } }).stacks.stateful);

    onDemand.allResourcesProperties('AWS::Kinesis::Stream', { StreamModeDetails: { StreamMode: 'ON_DEMAND' }, ShardCount: Match.absent() });
  });

  it('uses the configured shard counts in provisioned mode', () => {
    withTimestream.hasResourceProperties('AWS::Kinesis::Stream', { Name: 'pdm-dev-raw', ShardCount: 2, StreamModeDetails: { StreamMode: 'PROVISIONED' } });
    withTimestream.hasResourceProperties('AWS::Kinesis::Stream', { Name: 'pdm-dev-clean', ShardCount: 1 });
  });

  it('keys both tables by assetId, on demand, with PITR and the key', () => {
    for (const name of ['pdm-dev-assets', 'pdm-dev-twins']) {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: name,
        KeySchema: [{ AttributeName: 'assetId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      });
    }
  });

  it('keys the drift counters by asset model + reference and hour, with TTL, PITR and the key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'pdm-dev-drift',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'hour', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'hour', AttributeType: 'N' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    });
  });

  it('retains data resources by default', () => {
    const tables = template.findResources('AWS::DynamoDB::Table');
    for (const t of Object.values(tables)) expect((t as { DeletionPolicy: string }).DeletionPolicy).toBe('Retain');
    const streams = template.findResources('AWS::Kinesis::Stream');
    for (const s of Object.values(streams)) expect((s as { DeletionPolicy: string }).DeletionPolicy).toBe('Retain');
  });

  it('locks down the data buckets: KMS, no public access, TLS only, lifecycle, access logs', () => {
    const dataBuckets = Object.values(template.findResources('AWS::S3::Bucket')).filter((b) =>
      JSON.stringify(b).includes('aws:kms'),
    ) as Array<{ Properties: Record<string, unknown> }>;

    expect(dataBuckets).toHaveLength(2);
    for (const b of dataBuckets) {
      expect(b.Properties['PublicAccessBlockConfiguration']).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(b.Properties['LoggingConfiguration']).toBeDefined();
      expect(JSON.stringify(b.Properties['LifecycleConfiguration'])).toContain('"ExpirationInDays":90');
    }
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('encrypts the three topics with the key and denies plain-HTTP publishing', () => {
    template.resourceCountIs('AWS::SNS::Topic', 3);
    template.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('creates the custom bus with an archive', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'pdm-dev-twin-events' });
    template.hasResourceProperties('AWS::Events::Archive', { EventPattern: { source: ['pdm.twin'] } });
  });

  it('renders the archive without an empty KmsKeyIdentifier', () => {
    template.hasResourceProperties('AWS::Events::Archive', { KmsKeyIdentifier: Match.absent() });
  });

  it('lets CloudWatch alarms of this account publish to the ops topic', () => {
    const opsTopic = Object.entries(template.findResources('AWS::SNS::Topic')).find(([, r]) => (r as { Properties: { TopicName: string } }).Properties.TopicName === 'pdm-dev-ops')![0];

    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: opsTopic }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
        ]),
      },
    });
  });

  it('lets only CloudWatch (not EventBridge) use the key as a service principal', () => {
    const key = Object.values(template.findResources('AWS::KMS::Key'))[0] as { Properties: { KeyPolicy: { Statement: Array<{ Principal?: { Service?: unknown } }> } } };
    const services = key.Properties.KeyPolicy.Statement.flatMap((s) => {
      const svc = s.Principal?.Service;
      return svc === undefined ? [] : Array.isArray(svc) ? svc : [svc];
    });

    expect(services).toEqual(['cloudwatch.amazonaws.com']);
  });

  it('creates encrypted failure queues for both consumers', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it('creates no Timestream by default', () => {
    template.resourceCountIs('AWS::Timestream::Database', 0);
    template.resourceCountIs('AWS::Timestream::Table', 0);
  });

  it('creates the Timestream database with the key and three tables with the configured retention when enabled', () => {
    withTimestream.hasResourceProperties('AWS::Timestream::Database', { DatabaseName: 'pdm-dev-twin', KmsKeyId: Match.anyValue() });
    for (const name of ['telemetry', 'features', 'predictions']) {
      withTimestream.hasResourceProperties('AWS::Timestream::Table', {
        TableName: name,
        RetentionProperties: { MemoryStoreRetentionPeriodInHours: '12', MagneticStoreRetentionPeriodInDays: '90' },
      });
    }
  });
});
