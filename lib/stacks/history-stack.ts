/**
 * The history store: Kinesis Data Firehose (one Direct PUT stream per table) delivering to Apache
 * Iceberg tables in a general-purpose S3 bucket, catalogued in AWS Glue, queried with Athena in a
 * workgroup that encrypts results and cancels queries over a bytes-scanned limit. Why Glue and not S3
 * Tables: docs/history.md. The table definitions come from `lambdas/core/history/tables.ts`, the same
 * ones the local Parquet store uses.
 *
 * It exports a writer policy (PutRecordBatch on the streams) for the pipeline functions, and a
 * read-only policy and role for `pdm dashboard --stage` and `pdm history --stage`.
 */
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { historyNames } from '../../lambdas/core/history/names.ts';
import {
  type Column,
  HISTORY_SCHEMA_VERSION,
  HISTORY_TABLES,
  type HistoryTable,
  TABLE_DEFS,
} from '../../lambdas/core/history/tables.ts';
import { allowWildcards } from '../nag.ts';

export interface HistoryStackProps extends StackProps {
  readonly stage: string;
  /** `retain` keeps the tables' bucket and catalog on stack deletion. */
  readonly dataRemovalPolicy: 'retain' | 'destroy';
  /** Bucket for the buckets' server access logs (the stateful stack's). */
  readonly accessLogsBucket: s3.IBucket;
  /** The twin table the dashboard reads. */
  readonly twinsTable: dynamodb.ITable;
  /**
   * The stage's data key (the stateful stack's): it encrypts the twins and, here, the history buckets,
   * Firehose streams and Athena results. One customer-managed key per stage instead of two keeps the
   * stack at rest inside its $25 a month budget (a key costs $1 a month: docs/cost.md).
   */
  readonly key: kms.IKey;
  /** Athena cancels any query scanning more than this. Minimum 10 MB (Athena's). @default 1 GiB */
  readonly bytesScannedCutoffPerQuery?: number;
  /** Firehose buffering interval, seconds (0–900): larger means fewer, bigger files. @default 300 */
  readonly bufferSeconds?: number;
  /** Days Athena query results are kept. @default 30 */
  readonly resultsExpirationDays?: number;
}

/** A history stack setting that Athena or Firehose would refuse. */
export class HistoryConfigError extends Error {
  override readonly name: string = 'HistoryConfigError';
}

/** Athena's documented minimum for BytesScannedCutoffPerQuery (WorkGroupConfiguration API reference). */
export const MIN_SCAN_CUTOFF = 10_000_000;

/** Iceberg field ids: columns 1..n, nested ids (map key/value, list element) after them. */
function icebergFields(columns: readonly Column[]): glue.CfnTable.IcebergStructFieldProperty[] {
  let nested = columns.length;
  return columns.map((c, i) => {
    let type: string;
    if (c.type === 'map<string,double>') {
      type = JSON.stringify({ type: 'map', 'key-id': ++nested, key: 'string', 'value-id': ++nested, value: 'double', 'value-required': false });
    } else if (c.type === 'list<double>') {
      type = JSON.stringify({ type: 'list', 'element-id': ++nested, element: 'double', 'element-required': false });
    } else type = c.type;
    return { id: i + 1, name: c.name, type, required: c.required === true, doc: c.doc };
  });
}

function partitionSpec(table: HistoryTable): glue.CfnTable.IcebergPartitionSpecProperty {
  const def = TABLE_DEFS[table];
  return {
    specId: 0,
    fields: def.partition.map((p, i) => ({
      sourceId: def.columns.findIndex((c) => c.name === p.source) + 1,
      fieldId: 1000 + i,
      transform: p.transform === 'bucket' ? `bucket[${p.buckets}]` : p.transform,
      name: p.transform === 'bucket' ? `${p.source}_bucket` : `${p.source}_${p.transform}`,
    })),
  };
}

export class HistoryStack extends Stack {
  public readonly key: kms.IKey;
  public readonly warehouse: s3.Bucket;
  public readonly results: s3.Bucket;
  public readonly database: glue.CfnDatabase;
  public readonly workgroup: athena.CfnWorkGroup;
  public readonly streams: Readonly<Record<HistoryTable, firehose.CfnDeliveryStream>>;
  /** PutRecordBatch on every history stream: attach to the functions that write history. */
  public readonly writerPolicy: iam.ManagedPolicy;
  /** Read-only: Athena in the workgroup, the catalog, the tables, the results, the twin table. */
  public readonly readerPolicy: iam.ManagedPolicy;
  public readonly readerRole: iam.Role;
  /** `PDM_HISTORY_STREAMS` for the functions: table → stream name. */
  public readonly streamsEnv: string;

  constructor(scope: Construct, id: string, props: HistoryStackProps) {
    super(scope, id, props);
    const names = historyNames(props.stage);
    const cutoff = props.bytesScannedCutoffPerQuery ?? 1024 ** 3;
    if (!Number.isInteger(cutoff) || cutoff < MIN_SCAN_CUTOFF) {
      throw new HistoryConfigError(`${id}: bytesScannedCutoffPerQuery must be a whole number ≥ ${MIN_SCAN_CUTOFF} (Athena's minimum), got ${cutoff}`);
    }
    const bufferSeconds = props.bufferSeconds ?? 300;
    if (!Number.isInteger(bufferSeconds) || bufferSeconds < 0 || bufferSeconds > 900) {
      throw new HistoryConfigError(`${id}: bufferSeconds must be a whole number from 0 to 900, got ${bufferSeconds}`);
    }
    const dataPolicy = props.dataRemovalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.key = props.key;

    const bucketProps = (name: string): s3.BucketProps => ({
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: `${name}/`,
      removalPolicy: dataPolicy,
    });
    // Data files are never expired by S3 lifecycle: Iceberg's metadata points at them, and a file
    // deleted behind its back breaks the table. Retention is a DELETE + VACUUM (docs/history.md).
    this.warehouse = new s3.Bucket(this, 'Warehouse', {
      ...bucketProps('history-warehouse'),
      lifecycleRules: [
        { id: 'abort-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'expire-delivery-errors', prefix: 'errors/', expiration: Duration.days(30) },
      ],
    });
    this.results = new s3.Bucket(this, 'AthenaResults', {
      ...bucketProps('athena-results'),
      lifecycleRules: [
        { id: 'expire-results', expiration: Duration.days(props.resultsExpirationDays ?? 30), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: names.database, description: `pdm-${props.stage} history (Iceberg), schema version ${HISTORY_SCHEMA_VERSION}` },
    });
    this.database.applyRemovalPolicy(dataPolicy);

    const catalogArn = `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:catalog`;
    const databaseArn = `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:database/${names.database}`;
    const tableArn = (t: string) => `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:table/${names.database}/${t}`;

    const tables = new Map<HistoryTable, glue.CfnTable>();
    for (const t of HISTORY_TABLES) {
      // Schema only under IcebergTableInput, no TableInput: a TableInput update is what drops
      // table_type=ICEBERG (aws/aws-cdk#29660). The schema is create-only; docs/history.md says how to evolve it.
      const table = new glue.CfnTable(this, `Table-${t}`, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: names.database,
        name: t,
        openTableFormatInput: {
          icebergInput: {
            metadataOperation: 'CREATE',
            version: '2',
            icebergTableInput: {
              location: this.warehouse.s3UrlForObject(`tables/${t}`),
              schema: { type: 'struct', schemaId: 0, fields: icebergFields(TABLE_DEFS[t].columns) },
              partitionSpec: partitionSpec(t),
              properties: {
                'pdm.schema-version': String(HISTORY_SCHEMA_VERSION),
                'write.format.default': 'parquet',
                'write.parquet.compression-codec': 'zstd',
                'format-version': '2',
              },
            },
          },
        },
      });
      table.addResourceDependency(this.database);
      table.applyRemovalPolicy(dataPolicy);
      tables.set(t, table);
    }

    const logGroup = new logs.LogGroup(this, 'DeliveryLogs', {
      logGroupName: `/aws/kinesisfirehose/pdm-${props.stage}-history`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const role = new iam.Role(this, 'DeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'Firehose delivering the history streams into their Iceberg tables',
    });
    // What the Firehose Iceberg destination needs (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-iceberg).
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetTable', 'glue:GetDatabase', 'glue:UpdateTable'],
        resources: [catalogArn, databaseArn, ...HISTORY_TABLES.map(tableArn)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:AbortMultipartUpload', 's3:GetBucketLocation', 's3:GetObject', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:PutObject', 's3:DeleteObject'],
        resources: [this.warehouse.bucketArn, this.warehouse.arnForObjects('*')],
      }),
    );
    role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [this.key.keyArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:PutLogEvents'], resources: [`${logGroup.logGroupArn}:*`] }));

    const streams = {} as Record<HistoryTable, firehose.CfnDeliveryStream>;
    for (const t of HISTORY_TABLES) {
      const logStream = new logs.LogStream(this, `DeliveryLog-${t}`, { logGroup, logStreamName: t, removalPolicy: RemovalPolicy.DESTROY });
      const stream = new firehose.CfnDeliveryStream(this, `Stream-${t}`, {
        deliveryStreamName: names.stream(t),
        deliveryStreamType: 'DirectPut',
        deliveryStreamEncryptionConfigurationInput: { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: this.key.keyArn },
        icebergDestinationConfiguration: {
          roleArn: role.roleArn,
          catalogConfiguration: { catalogArn },
          destinationTableConfigurationList: [
            { destinationDatabaseName: names.database, destinationTableName: t, s3ErrorOutputPrefix: `errors/${t}/` },
          ],
          // AppendOnly: history rows are inserts only, and it lifts Direct PUT's per-stream throughput cap
          // (https://docs.aws.amazon.com/firehose/latest/dev/apache-iceberg-considerations.html).
          appendOnly: true,
          bufferingHints: { intervalInSeconds: bufferSeconds, sizeInMBs: 128 },
          retryOptions: { durationInSeconds: 3600 },
          s3Configuration: {
            bucketArn: this.warehouse.bucketArn,
            roleArn: role.roleArn,
            errorOutputPrefix: `errors/${t}/`,
            encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: this.key.keyArn } },
          },
          cloudWatchLoggingOptions: { enabled: true, logGroupName: logGroup.logGroupName, logStreamName: logStream.logStreamName },
        },
      });
      // The Iceberg destination spells this key in lower case (`s3BackupMode`), unlike the other
      // destinations: CloudFormation template reference, AWS::KinesisFirehose::DeliveryStream
      // IcebergDestinationConfiguration; its schema validator refuses `S3BackupMode`.
      stream.addPropertyOverride('IcebergDestinationConfiguration.s3BackupMode', 'FailedDataOnly');
      stream.addResourceDependency(tables.get(t)!);
      stream.node.addDependency(role);
      streams[t] = stream;
    }
    this.streams = streams;
    this.streamsEnv = JSON.stringify(Object.fromEntries(HISTORY_TABLES.map((t) => [t, names.stream(t)])));

    const streamArns = HISTORY_TABLES.map((t) => `arn:${Aws.PARTITION}:firehose:${Aws.REGION}:${Aws.ACCOUNT_ID}:deliverystream/${names.stream(t)}`);
    this.writerPolicy = new iam.ManagedPolicy(this, 'WriterPolicy', {
      description: `Write rows to the pdm-${props.stage} history streams`,
      statements: [new iam.PolicyStatement({ actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'], resources: streamArns })],
    });

    this.workgroup = new athena.CfnWorkGroup(this, 'Workgroup', {
      name: names.workgroup,
      description: `pdm-${props.stage} history queries: encrypted results, ${cutoff} bytes scanned at most per query`,
      recursiveDeleteOption: true,
      state: 'ENABLED',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        bytesScannedCutoffPerQuery: cutoff,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: this.results.s3UrlForObject('results/'),
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: this.key.keyArn },
        },
      },
    });

    this.readerPolicy = new iam.ManagedPolicy(this, 'ReaderPolicy', {
      managedPolicyName: names.readerPolicy,
      description: `Read-only: pdm-${props.stage} twins and history (Athena workgroup ${names.workgroup})`,
      statements: [
        new iam.PolicyStatement({
          sid: 'Athena',
          actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
          resources: [`arn:${Aws.PARTITION}:athena:${Aws.REGION}:${Aws.ACCOUNT_ID}:workgroup/${names.workgroup}`],
        }),
        new iam.PolicyStatement({
          sid: 'Catalog',
          actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'],
          resources: [catalogArn, databaseArn, ...HISTORY_TABLES.map(tableArn)],
        }),
        new iam.PolicyStatement({
          sid: 'TableData',
          actions: ['s3:GetObject', 's3:ListBucket', 's3:GetBucketLocation'],
          resources: [this.warehouse.bucketArn, this.warehouse.arnForObjects('tables/*')],
        }),
        new iam.PolicyStatement({
          sid: 'QueryResults',
          actions: ['s3:GetObject', 's3:PutObject', 's3:ListBucket', 's3:GetBucketLocation', 's3:AbortMultipartUpload'],
          resources: [this.results.bucketArn, this.results.arnForObjects('results/*')],
        }),
        new iam.PolicyStatement({ sid: 'DataKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [this.key.keyArn] }),
        new iam.PolicyStatement({
          sid: 'Twins',
          actions: ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'],
          resources: [props.twinsTable.tableArn],
        }),
      ],
    });
    this.readerRole = new iam.Role(this, 'ReaderRole', {
      roleName: `pdm-${props.stage}-dashboard-reader`,
      assumedBy: new iam.AccountRootPrincipal(),
      description: 'Assume to run pdm dashboard/history --stage with read-only access',
      managedPolicies: [this.readerPolicy],
      maxSessionDuration: Duration.hours(4),
    });

    new CfnOutput(this, 'HistoryWorkgroup', { value: names.workgroup, description: 'Athena workgroup of the history tables' });
    new CfnOutput(this, 'HistoryDatabase', { value: names.database, description: 'Glue database of the history tables' });
    new CfnOutput(this, 'ReaderPolicyArn', { value: this.readerPolicy.managedPolicyArn, exportName: `pdm-${props.stage}-history-reader-policy` });
    new CfnOutput(this, 'ReaderRoleArn', { value: this.readerRole.roleArn, exportName: `pdm-${props.stage}-dashboard-reader-role` });

    this.acknowledge();
  }

  private acknowledge(): void {
    allowWildcards(this, [
      {
        pattern: /^Resource::.*Warehouse.*\/\*$/,
        reason: 'Firehose writes Iceberg data and metadata files under run-time names; the reader reads the tables/ prefix only.',
      },
      { pattern: /^Resource::.*AthenaResults.*\/results\/\*$/, reason: 'Athena names each result object by query id under results/.' },
      { pattern: /^Resource::.*DeliveryLogs.*:\*$/, reason: 'Firehose writes to the log streams of its own log group.' },
    ]);
  }
}
