/**
 * The one Lambda function construct of the project. It fixes what every function must share (runtime,
 * arm64, active tracing, a retained log group, source maps, ESM bundling without Docker) and offers
 * `bind*()` helpers that set an environment variable from the `ENV` contract and grant the matching
 * permission in one call, so a function can never get a name without the access, or the reverse.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/core/config/env.ts';
import type { ConsumerConfig } from '../config.ts';
import { allowWildcards, bucketPutAllowances, KMS_GRANT_ALLOWANCES } from '../nag.ts';

/** One of the environment variable names of the function contract (`lambdas/core/config/env.ts`). */
export type EnvName = (typeof ENV)[keyof typeof ENV];

/** The project root: entries, the lock file and layers are resolved from here. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The runtime every function uses: the newest Node.js Lambda offers that esbuild can target. */
export const PDM_RUNTIME = lambda.Runtime.NODEJS_24_X;

// esbuild's ESM output has no `require`; CommonJS dependencies that call it need one.
const ESM_REQUIRE_BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export class ContradictoryPropsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContradictoryPropsError';
  }
}

export interface PdmFunctionProps {
  /** Handler entry, relative to the project root (e.g. `lambdas/clean/handler.ts`). */
  readonly entry: string;
  /** What the function does, shown in the console. @default - none */
  readonly description?: string;
  /** Memory in MB. @default 512 */
  readonly memorySize?: number;
  /** Timeout. @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** Log retention of the function's log group. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the log group. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Layers to attach. @default - none */
  readonly layers?: readonly lambda.ILayerVersion[];
  /** Reserved concurrency. @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
}

export interface StreamConsumerProps {
  /** The stream to consume. */
  readonly stream: kinesis.IStream;
  /** Batch size, window, record age, retries and parallelization. */
  readonly consumer: ConsumerConfig;
  /** Where records go after retries or record age run out. */
  readonly onFailure: sqs.IQueue;
  /** Iterator age that raises the alarm. @default Duration.minutes(5) */
  readonly iteratorAgeThreshold?: Duration;
}

/**
 * A Node.js Lambda function with the project's fixed settings. Use the `bind*()` helpers to give it
 * configuration and access together.
 */
export class PdmFunction extends Construct {
  /** The underlying function. */
  public readonly function: nodejs.NodejsFunction;
  /** The function's log group, retained for `logRetention`. */
  public readonly logGroup: logs.LogGroup;
  /** Its execution role (explicit, so no AWS managed policy is attached). */
  public readonly role: iam.Role;
  private readonly boundNames = new Set<string>();

  constructor(scope: Construct, id: string, props: PdmFunctionProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(60);
    if (timeout.toSeconds() > 900) throw new ContradictoryPropsError(`${id}: timeout ${timeout.toSeconds()} s exceeds Lambda's 900 s`);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    // The function writes only to its own log group, instead of AWSLambdaBasicExecutionRole's logs:* on *.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: resolve(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: resolve(PROJECT_ROOT, 'package-lock.json'),
      runtime: PDM_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      role: this.role,
      description: props.description,
      layers: props.layers ? [...props.layers] : undefined,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: { NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        sourceMap: true,
        sourcesContent: false,
        minify: true,
        forceDockerBundling: false,
        // The runtime ships SDK v3; bundling it would only grow the cold start.
        externalModules: ['@aws-sdk/*'],
      },
    });
    allowWildcards(this.role, [
      ...KMS_GRANT_ALLOWANCES,
      ...bucketPutAllowances('QuarantineBucket'),
      {
        pattern: /^Resource::\*$/,
        // Acknowledged only while every "*" statement of the policy is limited to these actions, so a
        // future grant on "*" fails the synth instead of riding on this reason.
        onlyActions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'timestream:DescribeEndpoints'],
        reason:
          'Only actions without resource-level permissions use "*": xray:PutTraceSegments/PutTelemetryRecords (active tracing) and, with Timestream, timestream:DescribeEndpoints (endpoint discovery).',
      },
      {
        pattern: /^Resource::.*:log-group:.*:\*$/,
        reason: "Lambda creates the log streams at run time; the wildcard covers the streams of this function's own log group only.",
      },
    ]);
  }

  /** Sets a plain environment variable of the contract (no access involved). */
  public setEnv(name: EnvName, value: string): this {
    this.claim(name);
    this.function.addEnvironment(name, value);
    return this;
  }

  /**
   * Names the stream in `name` and grants `PutRecord(s)` on it, and `kms:GenerateDataKey` on its key
   * (what a producer of an SSE-KMS stream needs; `grantWrite` would add Encrypt and ReEncrypt).
   */
  public bindStreamWriter(name: EnvName, stream: kinesis.IStream): this {
    this.setEnv(name, stream.streamName);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kinesis:PutRecord', 'kinesis:PutRecords'], resources: [stream.streamArn] }));
    this.grantKey(stream.encryptionKey, ['kms:GenerateDataKey']);
    return this;
  }

  /**
   * Names the table in `name` and grants point reads (`GetItem`, `BatchGetItem`) and `kms:Decrypt`:
   * the handlers look assets up by key and never query or scan.
   */
  public bindTableReader(name: EnvName, table: dynamodb.ITable): this {
    this.setEnv(name, table.tableName);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], resources: [table.tableArn] }));
    this.grantKey(table.encryptionKey, ['kms:Decrypt']);
    return this;
  }

  /**
   * Names the table in `name` and grants what a per-key read-modify-write needs (`GetItem`, `PutItem`,
   * `UpdateItem`) and the key's Decrypt and GenerateDataKey; no delete, batch write, query or scan.
   */
  public bindTableReadWriter(name: EnvName, table: dynamodb.ITable): this {
    this.setEnv(name, table.tableName);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resources: [table.tableArn] }),
    );
    this.grantKey(table.encryptionKey, ['kms:Decrypt', 'kms:GenerateDataKey']);
    return this;
  }

  /**
   * Names the drift counter table in `name` and grants what the drift window needs: `UpdateItem` (the
   * atomic ADD per hour bucket) and `Query` (the window's buckets), and the key's Decrypt and
   * GenerateDataKey; no get, put, delete or scan. Sets the window settings with it.
   */
  public bindDriftCounters(
    name: EnvName,
    table: dynamodb.ITable,
    settings: { readonly windowHours: number; readonly minCount: number; readonly evaluateSeconds: number },
  ): this {
    this.setEnv(name, table.tableName);
    this.setEnv(ENV.driftWindowHours, String(settings.windowHours));
    this.setEnv(ENV.driftMinCount, String(settings.minCount));
    this.setEnv(ENV.driftEvaluateSeconds, String(settings.evaluateSeconds));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem', 'dynamodb:Query'], resources: [table.tableArn] }));
    this.grantKey(table.encryptionKey, ['kms:Decrypt', 'kms:GenerateDataKey']);
    return this;
  }

  /**
   * Names the bucket in `name` and grants `s3:PutObject` on its objects, and `kms:GenerateDataKey` on
   * its key (SSE-KMS single-part puts; the handlers' objects are small).
   */
  public bindBucketWriter(name: EnvName, bucket: s3.IBucket): this {
    this.setEnv(name, bucket.bucketName);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects('*')] }));
    this.grantKey(bucket.encryptionKey, ['kms:GenerateDataKey']);
    return this;
  }

  private grantKey(key: kms.IKey | undefined, actions: string[]): void {
    if (key) this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [key.keyArn] }));
  }

  /** Names the bus in `name` and grants `events:PutEvents` on it. */
  public bindEventBus(name: EnvName, bus: events.IEventBus): this {
    this.setEnv(name, bus.eventBusName);
    bus.grantPutEventsTo(this.function);
    return this;
  }

  /**
   * Sets `PDM_TELEMETRY_STORE=timestream`, the database and table names, and grants `WriteRecords` on
   * exactly those tables. `timestream:DescribeEndpoints` has no resource-level permission, so it is
   * granted on `*` with an acknowledgement.
   */
  public bindTimestream(database: string, tables: ReadonlyArray<{ readonly name: EnvName; readonly table: string; readonly arn: string }>): this {
    if (tables.length === 0) throw new ContradictoryPropsError(`${this.node.id}: bindTimestream needs at least one table`);
    this.setEnv(ENV.telemetryStore, 'timestream');
    this.setEnv(ENV.timestreamDatabase, database);
    for (const t of tables) this.setEnv(t.name, t.table);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['timestream:WriteRecords'], resources: tables.map((t) => t.arn) }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['timestream:DescribeEndpoints'], resources: ['*'] }),
    );
    return this;
  }

  /** Sets `PDM_TELEMETRY_STORE=none`: the function writes no time series. */
  public bindNoTelemetryStore(): this {
    return this.setEnv(ENV.telemetryStore, 'none');
  }

  /**
   * Sets `PDM_SCORING_MODE=endpoint`, `PDM_ENDPOINTS` and the call timeout, and grants
   * `sagemaker:InvokeEndpoint` on exactly these endpoints.
   * @param endpoints `{ "<assetModelId>/<predictor>": "<endpoint name>" }`
   */
  public bindEndpoints(endpoints: Readonly<Record<string, string>>, timeoutMs: number): this {
    const names = [...new Set(Object.values(endpoints))];
    if (names.length === 0) throw new ContradictoryPropsError(`${this.node.id}: endpoint scoring needs at least one endpoint`);
    this.setEnv(ENV.scoringMode, 'endpoint');
    this.setEnv(ENV.endpoints, JSON.stringify(endpoints));
    this.setEnv(ENV.endpointTimeoutMs, String(timeoutMs));
    const stack = Stack.of(this);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:InvokeEndpoint'],
        // SageMaker lower-cases endpoint names in ARNs.
        resources: names.map((n) => stack.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: n.toLowerCase() })),
      }),
    );
    return this;
  }

  /** Sets `PDM_SCORING_MODE=in-lambda`: the function scores with the model layer only. */
  public bindInLambdaScoring(): this {
    return this.setEnv(ENV.scoringMode, 'in-lambda');
  }

  /**
   * Consumes a Kinesis stream with all the safeguards: bisect on error, partial batch responses,
   * bounded retries and record age, an SQS on-failure destination, and an iterator-age alarm on the
   * stream's own metric (dimension `StreamName`).
   */
  public consumeStream(id: string, props: StreamConsumerProps): { readonly source: KinesisEventSource; readonly iteratorAgeAlarm: cloudwatch.Alarm } {
    const c = props.consumer;
    if (c.maxRecordAgeSeconds < c.maxBatchingWindowSeconds) {
      throw new ContradictoryPropsError(
        `${id}: maxRecordAgeSeconds (${c.maxRecordAgeSeconds}) is shorter than the batching window (${c.maxBatchingWindowSeconds}); every record would expire while batching`,
      );
    }
    const source = new KinesisEventSource(props.stream, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: c.batchSize,
      maxBatchingWindow: Duration.seconds(c.maxBatchingWindowSeconds),
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: c.retryAttempts,
      maxRecordAge: Duration.seconds(c.maxRecordAgeSeconds),
      parallelizationFactor: c.parallelizationFactor,
      onFailure: new SqsDlq(props.onFailure),
    });
    this.function.addEventSource(source);
    const threshold = props.iteratorAgeThreshold ?? Duration.minutes(5);
    const iteratorAgeAlarm = new cloudwatch.Alarm(this, `${id}IteratorAge`, {
      alarmDescription: `${this.node.path} is falling behind on its stream`,
      metric: props.stream.metricGetRecordsIteratorAgeMilliseconds({ statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: threshold.toMilliseconds(),
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    return { source, iteratorAgeAlarm };
  }

  private claim(name: string): void {
    if (this.boundNames.has(name)) throw new ContradictoryPropsError(`${this.node.id}: environment variable ${name} is bound twice`);
    this.boundNames.add(name);
  }
}
