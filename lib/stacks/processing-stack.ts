/**
 * The two stream consumers: clean (raw → clean stream, quarantine, telemetry) and features (clean
 * stream → features, scores, twins, alerts), with the model layer attached to the feature function.
 * Stateless: every resource it touches arrives as a prop from the stateful stack.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV } from '../../lambdas/core/config/env.ts';
import type { StageConfig } from '../config.ts';
import { ContradictoryPropsError, PDM_RUNTIME, PdmFunction, PROJECT_ROOT } from '../constructs/pdm-function.ts';
import type { TimestreamResources } from './stateful-stack.ts';

/** Where the model layer mounts the bundle (a layer's content is extracted under /opt). */
export const MODEL_DIR = '/opt/model';

export interface ProcessingStackProps extends StackProps {
  readonly config: StageConfig;
  readonly rawStream: kinesis.IStream;
  readonly cleanStream: kinesis.IStream;
  readonly assetsTable: dynamodb.ITable;
  readonly twinsTable: dynamodb.ITable;
  /** Drift counters (docs/drift.md); bound when `config.drift.enabled`. @default - no drift metric */
  readonly driftTable?: dynamodb.ITable;
  readonly quarantineBucket: s3.IBucket;
  readonly bus: events.IEventBus;
  readonly cleanDlq: sqs.IQueue;
  readonly featuresDlq: sqs.IQueue;
  /** Topic for the iterator-age alarms. */
  readonly opsTopic: sns.ITopic;
  /** Timestream resources; required exactly when `config.timestream.enabled`. @default - none */
  readonly timestream?: TimestreamResources;
  /** Endpoint names by `<assetModelId>/<predictor>`; required exactly when scoring uses endpoints. @default - none */
  readonly endpoints?: Readonly<Record<string, string>>;
  /** Handler entries relative to the project root. @default the `lambdas/<fn>/handler.ts` files */
  readonly entries?: { readonly clean: string; readonly features: string };
  /** The `layers` directory whose `model/` folder becomes the model layer. @default `<project>/layers` */
  readonly layersDir?: string;
}

export class ProcessingStack extends Stack {
  public readonly clean: PdmFunction;
  public readonly features: PdmFunction;
  public readonly modelLayer: lambda.LayerVersion;
  public readonly iteratorAgeAlarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ProcessingStackProps) {
    super(scope, id, props);
    const { config } = props;
    const usesEndpoints = config.scoring.mode !== 'in-lambda';
    const hasEndpoints = props.endpoints !== undefined && Object.keys(props.endpoints).length > 0;
    if (usesEndpoints !== hasEndpoints) {
      throw new ContradictoryPropsError(
        usesEndpoints
          ? `${id}: scoring mode "${config.scoring.mode}" needs the endpoint names (pass the ModelStack's endpoints)`
          : `${id}: scoring mode "in-lambda" deploys no endpoints, but endpoints were given`,
      );
    }
    if (config.timestream.enabled !== (props.timestream !== undefined)) {
      throw new ContradictoryPropsError(
        config.timestream.enabled
          ? `${id}: timestream.enabled is true but no Timestream resources were given`
          : `${id}: Timestream resources were given but timestream.enabled is false`,
      );
    }
    const entries = props.entries ?? { clean: 'lambdas/clean/handler.ts', features: 'lambdas/features/handler.ts' };
    const logRemovalPolicy = config.dataRemovalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const layersDir = props.layersDir ?? resolve(PROJECT_ROOT, 'layers');
    // The feature function refuses to start without a bundle; refuse the synth first.
    if (!existsSync(join(layersDir, 'model', 'manifest.json'))) {
      throw new ContradictoryPropsError(`${id}: no model bundle at ${join(layersDir, 'model', 'manifest.json')}; train one (docs/trainer.md) before deploying`);
    }
    this.modelLayer = new lambda.LayerVersion(this, 'ModelLayer', {
      description: 'PdM model bundle (XGBoost JSON + manifest.json) under /opt/model',
      // Only the model folder: the zip's top-level "model/" lands at /opt/model.
      code: lambda.Code.fromAsset(layersDir, { exclude: ['*', '!model', '!model/**'] }),
      compatibleArchitectures: [lambda.Architecture.ARM_64],
      compatibleRuntimes: [PDM_RUNTIME],
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.clean = new PdmFunction(this, 'Clean', {
      entry: entries.clean,
      description: 'Validates, deduplicates and cleans raw telemetry; quarantines the rest',
      memorySize: 512,
      timeout: Duration.seconds(60),
      logRetention: config.logRetentionDays as logs.RetentionDays,
      logRemovalPolicy,
    });
    this.clean
      .bindStreamWriter(ENV.cleanStream, props.cleanStream)
      .bindBucketWriter(ENV.quarantineBucket, props.quarantineBucket)
      .bindTableReader(ENV.assetTable, props.assetsTable);

    this.features = new PdmFunction(this, 'Features', {
      entry: entries.features,
      description: 'Rolling features, scores, twin updates and alert events',
      memorySize: 1024,
      timeout: Duration.seconds(120),
      logRetention: config.logRetentionDays as logs.RetentionDays,
      logRemovalPolicy,
      layers: [this.modelLayer],
    });
    this.features
      .bindBucketWriter(ENV.quarantineBucket, props.quarantineBucket)
      .bindTableReader(ENV.assetTable, props.assetsTable)
      .bindTableReadWriter(ENV.twinTable, props.twinsTable)
      .bindEventBus(ENV.eventBus, props.bus)
      .setEnv(ENV.modelDir, MODEL_DIR)
      .setEnv(ENV.shadowScoring, config.models.shadow ? 'on' : 'off');
    if (props.driftTable && config.drift.enabled) this.features.bindDriftCounters(ENV.driftTable, props.driftTable, config.drift);
    if (props.endpoints && usesEndpoints) this.features.bindEndpoints(props.endpoints, config.scoring.endpointTimeoutMs);
    else this.features.bindInLambdaScoring();

    const ts = props.timestream;
    if (ts) {
      this.clean.bindTimestream(ts.databaseName, [{ name: ENV.timestreamTelemetryTable, table: ts.telemetry.tableName, arn: ts.telemetry.tableArn }]);
      this.features.bindTimestream(ts.databaseName, [
        { name: ENV.timestreamFeaturesTable, table: ts.features.tableName, arn: ts.features.tableArn },
        { name: ENV.timestreamPredictionsTable, table: ts.predictions.tableName, arn: ts.predictions.tableArn },
      ]);
    } else {
      this.clean.bindNoTelemetryStore();
      this.features.bindNoTelemetryStore();
    }

    const cleanSource = this.clean.consumeStream('Raw', { stream: props.rawStream, consumer: config.clean, onFailure: props.cleanDlq });
    const featureSource = this.features.consumeStream('Clean', { stream: props.cleanStream, consumer: config.features, onFailure: props.featuresDlq });
    this.iteratorAgeAlarms = [cleanSource.iteratorAgeAlarm, featureSource.iteratorAgeAlarm];
    for (const alarm of this.iteratorAgeAlarms) alarm.addAlarmAction(new cwActions.SnsAction(props.opsTopic));

    for (const fn of [this.clean, this.features]) acknowledgeFunctionFindings(fn);
  }
}

/** The Serverless-pack findings every stream-consuming PdmFunction raises by design. */
function acknowledgeFunctionFindings(fn: PdmFunction): void {
  const why = "A stream consumer is invoked synchronously by its event source mapping, so an async DLQ or failure destination never fires; failed records go to the mapping's SQS on-failure destination instead.";
  Validations.of(fn).acknowledge({ id: 'Serverless-LambdaDLQ', reason: why }, { id: 'Serverless-LambdaAsyncFailureDestination', reason: why });
}
