/**
 * Lambda entry of the features function (clean stream → twins, scores, alerts). The environment is
 * parsed and the model bundle loaded once per container, at module scope: a bad bundle or setting
 * fails the cold start, not a record.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { createAwsClients } from '../adapters/aws/clients.ts';
import { DynamoAssetRegistry, DynamoTwinStore } from '../adapters/aws/dynamodb.ts';
import { EventBridgeAlertPublisher } from '../adapters/aws/eventbridge.ts';
import { S3QuarantineSink } from '../adapters/aws/s3.ts';
import { SageMakerScorer } from '../adapters/aws/sagemaker.ts';
import { TimestreamTelemetryStore } from '../adapters/aws/timestream.ts';
import { createShadowScorer, InProcessScorer, readBundleDir } from '../adapters/model.ts';
import { CachedAssetRegistry, NoopTelemetryStore, type QuarantineSink, type Scorer, type TelemetryStore } from '../adapters/ports.ts';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { FirehoseHistorySink } from '../adapters/aws/history-firehose.ts';
import { bundleModelVersions, challengerModelVersions, HistoryTelemetryStore, IndexedQuarantineSink, TeeTelemetryStore } from '../adapters/history.ts';
import { ENV, parseFeatureFunctionEnv } from '../core/config/env.ts';
import { bundlePolicies } from '../core/pipeline.ts';
import { createHandler } from './app.ts';
import { DynamoDriftCounterStore } from '../adapters/aws/drift-dynamodb.ts';
import { DriftMonitor } from '../adapters/drift.ts';

export { createHandler } from './app.ts';
export type { FeatureDeps, FeatureHandler, FeatureSummary } from './app.ts';

const SERVICE = 'pdm-features';
const env = parseFeatureFunctionEnv(process.env);
const tracer = new Tracer({ serviceName: SERVICE });
const logger = new Logger({ serviceName: SERVICE });
const metrics = new Metrics({ namespace: 'pdm', serviceName: SERVICE });
const clients = createAwsClients(process.env, (c) => tracer.captureAWSv3Client(c));
// The model layer is always attached in AWS: a missing bundle is a broken deploy, not "no models".
const bundle = readBundleDir(env[ENV.modelDir], { required: true });

const scorer: Scorer =
  env[ENV.scoringMode] === 'endpoint'
    ? new SageMakerScorer(clients.sagemaker, bundle, {
        endpoints: env[ENV.endpoints],
        timeoutMs: env[ENV.endpointTimeoutMs],
        onFallback: (e) => {
          metrics.addMetric('EndpointFallback', MetricUnit.Count, 1);
          // Rows, comparable with the Assets metric: the FallbackRate alarm divides this by it.
          metrics.addMetric('EndpointFallbackRows', MetricUnit.Count, e.rows);
          logger.warn('endpoint scoring failed; scored in process', { ...e });
        },
      })
    : new InProcessScorer(bundle);

const telemetry: TelemetryStore =
  env[ENV.telemetryStore] === 'timestream'
    ? new TimestreamTelemetryStore(clients.timestream, {
        database: env[ENV.timestreamDatabase]!,
        featuresTable: env[ENV.timestreamFeaturesTable]!,
        predictionsTable: env[ENV.timestreamPredictionsTable]!,
      })
    : new NoopTelemetryStore();

// History (Firehose → Iceberg): features, predictions with the model version, transitions, alerts,
// maintenance and the quarantine index, next to the optional Timestream.
const streams = env[ENV.historyStreams];
const historySink = Object.keys(streams).length > 0 ? new FirehoseHistorySink(tracer.captureAWSv3Client(new FirehoseClient({})), streams) : undefined;
const history = historySink
  ? new HistoryTelemetryStore(historySink, {
      modelVersions: bundleModelVersions(bundle),
      challengerVersions: challengerModelVersions(bundle),
      featureEngine: bundle.manifest.featureEngineVersion,
    })
  : undefined;

// Shadow challengers: scored in this Lambda even when the champion is scored by an endpoint, because a
// serverless endpoint has exactly one production variant, so no shadow variant can sit next to it
// (../shared/notes/lifecycle-and-provisioning.md §3). Without a history there is nowhere to put them.
const shadowScorer = env[ENV.shadowScoring] === 'on' && history ? createShadowScorer(bundle) : null;
const s3Quarantine = new S3QuarantineSink(clients.s3, env[ENV.quarantineBucket]);
const quarantine: QuarantineSink = historySink
  ? new IndexedQuarantineSink(s3Quarantine, historySink, (key) => `s3://${env[ENV.quarantineBucket]}/${key}`)
  : s3Quarantine;

// Drift counters are shared by every container (atomic ADD per hour bucket); each reads the window at
// most once per PDM_DRIFT_EVALUATE_SECONDS per asset model.
const driftTable = env[ENV.driftTable];
const drift = driftTable
  ? new DriftMonitor(new DynamoDriftCounterStore(clients.doc, driftTable), bundle, {
      windowHours: env[ENV.driftWindowHours],
      minCount: env[ENV.driftMinCount],
      evaluateEveryMs: env[ENV.driftEvaluateSeconds] * 1000,
    })
  : undefined;

export const handler = createHandler({
  registry: new CachedAssetRegistry(new DynamoAssetRegistry(clients.doc, env[ENV.assetTable])),
  twins: new DynamoTwinStore(clients.doc, env[ENV.twinTable]),
  scorer,
  telemetry: history ? new TeeTelemetryStore(telemetry, history) : telemetry,
  ...(history ? { history } : {}),
  quarantine,
  alerts: new EventBridgeAlertPublisher(clients.events, env[ENV.eventBus]),
  logger,
  metrics,
  // Each classifier decides at the thresholds its manifest entry ships (calibrated on validation data).
  policiesFor: bundlePolicies(bundle),
  ...(drift ? { drift } : {}),
  ...(shadowScorer && history ? { shadow: { score: shadowScorer, history } } : {}),
});
