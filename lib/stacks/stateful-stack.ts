/**
 * Everything that holds data or routes it between stages: the key, the streams, the tables, the
 * buckets, Timestream, the bus and the topics. Stateless stacks receive these as typed props, so they
 * can be destroyed and redeployed without touching data.
 */
import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as timestream from 'aws-cdk-lib/aws-timestream';
import type { Construct } from 'constructs';
import { ALERT_SOURCE } from '../../lambdas/core/alerts/policy.ts';
import { DRIFT_TABLE_KEYS } from '../../lambdas/core/drift/index.ts';
import type { StageConfig } from '../config.ts';

/** The Timestream database and its three tables (present only when Timestream is enabled). */
export interface TimestreamResources {
  readonly databaseName: string;
  readonly databaseArn: string;
  readonly telemetry: { readonly tableName: string; readonly tableArn: string };
  readonly features: { readonly tableName: string; readonly tableArn: string };
  readonly predictions: { readonly tableName: string; readonly tableArn: string };
}

export interface StatefulStackProps extends StackProps {
  /** The validated stage config. */
  readonly config: StageConfig;
}

export class StatefulStack extends Stack {
  /** Customer-managed key for streams, tables, buckets, topics and Timestream. */
  public readonly key: kms.Key;
  public readonly rawStream: kinesis.Stream;
  public readonly cleanStream: kinesis.Stream;
  /** Registered assets: `{ assetId, siteId, modelId, attributes? }`. */
  public readonly assetsTable: dynamodb.Table;
  public readonly twinsTable: dynamodb.Table;
  /** Hourly drift bin counters (docs/drift.md): pk `pk` = asset model + reference id, sk `hour`. */
  public readonly driftTable: dynamodb.Table;
  public readonly quarantineBucket: s3.Bucket;
  public readonly ruleErrorsBucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;
  public readonly timestream: TimestreamResources | undefined;
  public readonly bus: events.EventBus;
  public readonly criticalTopic: sns.Topic;
  public readonly warningTopic: sns.Topic;
  public readonly opsTopic: sns.Topic;
  /** On-failure destination of the clean function's stream consumer. */
  public readonly cleanDlq: sqs.Queue;
  /** On-failure destination of the feature function's stream consumer. */
  public readonly featuresDlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;
    const dataPolicy = config.dataRemovalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const prefix = `pdm-${config.stage}`;

    this.key = new kms.Key(this, 'DataKey', {
      alias: `alias/${prefix}-data`,
      description: `Encrypts the ${prefix} streams, tables, buckets, topics and Timestream`,
      enableKeyRotation: true,
      removalPolicy: dataPolicy,
    });
    // CloudWatch alarm actions publish to the encrypted ops topic as the service itself, so the key
    // policy must let cloudwatch.amazonaws.com use the key. EventBridge rules publish through their own
    // roles (authorizeUsingRole), whose key grants are identity policies: no service principal needed.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAlarmsToEncryptedTopics',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );

    const streamProps = (name: string, shards: number | undefined): kinesis.StreamProps => ({
      streamName: `${prefix}-${name}`,
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.key,
      retentionPeriod: Duration.hours(24),
      removalPolicy: dataPolicy,
      ...(shards === undefined ? { streamMode: kinesis.StreamMode.ON_DEMAND } : { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: shards }),
    });
    const shards = config.streams.mode === 'provisioned' ? config.streams : undefined;
    this.rawStream = new kinesis.Stream(this, 'RawStream', streamProps('raw', shards?.rawShards));
    this.cleanStream = new kinesis.Stream(this, 'CleanStream', streamProps('clean', shards?.cleanShards));
    for (const s of [this.rawStream, this.cleanStream]) {
      Validations.of(s).acknowledge({
        id: 'AwsSolutions-KDS3',
        reason: 'The streams use the stage\'s customer-managed key on purpose (rotation, key policy and audit under our control) rather than the aws/kinesis managed key.',
      });
    }

    const tableProps = (name: string): dynamodb.TableProps => ({
      tableName: `${prefix}-${name}`,
      partitionKey: { name: 'assetId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: config.dataRemovalPolicy === 'retain',
      removalPolicy: dataPolicy,
    });
    this.assetsTable = new dynamodb.Table(this, 'AssetsTable', tableProps('assets'));
    this.twinsTable = new dynamodb.Table(this, 'TwinsTable', tableProps('twins'));
    // Its own table: the twins' key is `assetId` alone, and a counter per (model, hour) is no twin.
    // TTL drops buckets a day after the longest window could read them (docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html: deletion is free and typically within days).
    this.driftTable = new dynamodb.Table(this, 'DriftTable', {
      ...tableProps('drift'),
      partitionKey: { name: DRIFT_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: DRIFT_TABLE_KEYS.sortKey, type: dynamodb.AttributeType.NUMBER },
      timeToLiveAttribute: DRIFT_TABLE_KEYS.ttl,
    });

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      // S3 server access logging delivers only to SSE-S3 buckets, not SSE-KMS.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy: dataPolicy,
      autoDeleteObjects: false,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket of the quarantine and rule-error buckets; logging it into itself would loop and logging it elsewhere only moves the problem.',
    });

    const dataBucketProps = (name: string): s3.BucketProps => ({
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: `${name}/`,
      lifecycleRules: [
        { id: `expire-${name}`, expiration: Duration.days(config.quarantineExpirationDays), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: dataPolicy,
    });
    this.quarantineBucket = new s3.Bucket(this, 'QuarantineBucket', dataBucketProps('quarantine'));
    this.ruleErrorsBucket = new s3.Bucket(this, 'RuleErrorsBucket', dataBucketProps('rule-errors'));

    this.timestream = config.timestream.enabled ? this.createTimestream(prefix, config, dataPolicy) : undefined;

    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `${prefix}-twin-events` });
    const archive = this.bus.archive('Archive', {
      archiveName: `${prefix}-twin-events`,
      description: 'Every twin event, for replay after a subscriber or rule fix',
      eventPattern: { source: [ALERT_SOURCE] },
      retention: Duration.days(365),
    });
    // The L2 renders an unset key as KmsKeyIdentifier: "", which CloudFormation rejects in some regions;
    // without the property the archive uses an AWS owned key.
    (archive.node.defaultChild as events.CfnArchive).addPropertyDeletionOverride('KmsKeyIdentifier');

    const topic = (id: string, name: string, displayName: string) =>
      new sns.Topic(this, id, { topicName: `${prefix}-${name}`, displayName, masterKey: this.key, enforceSSL: true });
    this.criticalTopic = topic('CriticalTopic', 'critical', 'PdM critical alerts');
    this.warningTopic = topic('WarningTopic', 'warning', 'PdM warning alerts');
    this.opsTopic = topic('OpsTopic', 'ops', 'PdM pipeline operations');
    // enforceSSL gives the topic a policy with only a Deny, which replaces SNS's default policy; without
    // this Allow, CloudWatch alarm actions (which publish as the service) would be refused.
    this.opsTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAlarmsInThisAccountToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.opsTopic.topicArn],
        // Alarm names are generated per stack, so the account (not an alarm ARN pattern) bounds the grant.
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );

    const queue = (id: string, name: string) =>
      new sqs.Queue(this, id, {
        queueName: `${prefix}-${name}`,
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy: dataPolicy,
      });
    this.cleanDlq = queue('CleanDlq', 'clean-failures');
    this.featuresDlq = queue('FeaturesDlq', 'features-failures');
    const dlqReason = "This queue is itself a stream consumer's on-failure destination; a DLQ of a DLQ adds nothing.";
    for (const q of [this.cleanDlq, this.featuresDlq]) {
      Validations.of(q).acknowledge({ id: 'AwsSolutions-SQS3', reason: dlqReason }, { id: 'Serverless-SQSRedrivePolicy', reason: dlqReason });
    }
  }

  private createTimestream(prefix: string, config: StageConfig, dataPolicy: RemovalPolicy): TimestreamResources {
    const databaseName = `${prefix}-twin`;
    const database = new timestream.CfnDatabase(this, 'TimestreamDatabase', { databaseName, kmsKeyId: this.key.keyArn });
    database.applyRemovalPolicy(dataPolicy);
    const retention = {
      MemoryStoreRetentionPeriodInHours: String(config.timestream.memoryHours),
      MagneticStoreRetentionPeriodInDays: String(config.timestream.magneticDays),
    };
    const table = (id: string, tableName: string) => {
      const t = new timestream.CfnTable(this, id, { databaseName, tableName, retentionProperties: retention });
      t.node.addDependency(database);
      t.applyRemovalPolicy(dataPolicy);
      return { tableName, tableArn: t.attrArn };
    };
    const reason = 'Timestream for LiveAnalytics is in maintenance mode (closed to new customers since 2025-06-20); it is off by default and enabled only by accounts that already have access.';
    Validations.of(this).acknowledge({ id: 'CloudFormation-Validate::W3697', reason });
    return {
      databaseName,
      databaseArn: database.attrArn,
      telemetry: table('TelemetryTable', 'telemetry'),
      features: table('FeaturesTable', 'features'),
      predictions: table('PredictionsTable', 'predictions'),
    };
  }
}
