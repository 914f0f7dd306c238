/**
 * Lambda entry of the clean function (raw stream → clean stream). The environment is parsed once at
 * module scope, so a misconfigured stage fails its cold start with a clear ConfigError.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { createAwsClients } from '../adapters/aws/clients.ts';
import { DynamoAssetRegistry } from '../adapters/aws/dynamodb.ts';
import { KinesisStreamWriter } from '../adapters/aws/kinesis.ts';
import { S3QuarantineSink } from '../adapters/aws/s3.ts';
import { TimestreamTelemetryStore } from '../adapters/aws/timestream.ts';
import { CachedAssetRegistry, NoopTelemetryStore, type QuarantineSink, type TelemetryStore } from '../adapters/ports.ts';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { FirehoseHistorySink } from '../adapters/aws/history-firehose.ts';
import { HistoryTelemetryStore, IndexedQuarantineSink, TeeTelemetryStore } from '../adapters/history.ts';
import { ENV, parseCleanFunctionEnv } from '../core/config/env.ts';
import { createHandler } from './app.ts';

export { createHandler } from './app.ts';
export type { CleanDeps, CleanHandler, CleanSummary } from './app.ts';

const SERVICE = 'pdm-clean';
const env = parseCleanFunctionEnv(process.env);
const tracer = new Tracer({ serviceName: SERVICE });
const clients = createAwsClients(process.env, (c) => tracer.captureAWSv3Client(c));
const telemetry: TelemetryStore =
  env[ENV.telemetryStore] === 'timestream'
    ? new TimestreamTelemetryStore(clients.timestream, {
        database: env[ENV.timestreamDatabase]!,
        telemetryTable: env[ENV.timestreamTelemetryTable]!,
      })
    : new NoopTelemetryStore();
// History (Firehose → Iceberg): clean readings and the quarantine index, next to the optional Timestream.
const streams = env[ENV.historyStreams];
const historySink = Object.keys(streams).length > 0 ? new FirehoseHistorySink(tracer.captureAWSv3Client(new FirehoseClient({})), streams) : undefined;
const s3Quarantine = new S3QuarantineSink(clients.s3, env[ENV.quarantineBucket]);
const quarantine: QuarantineSink = historySink
  ? new IndexedQuarantineSink(s3Quarantine, historySink, (key) => `s3://${env[ENV.quarantineBucket]}/${key}`)
  : s3Quarantine;

export const handler = createHandler({
  registry: new CachedAssetRegistry(new DynamoAssetRegistry(clients.doc, env[ENV.assetTable])),
  stream: new KinesisStreamWriter(clients.kinesis, env[ENV.cleanStream]),
  quarantine,
  telemetry: historySink ? new TeeTelemetryStore(telemetry, new HistoryTelemetryStore(historySink)) : telemetry,
  logger: new Logger({ serviceName: SERVICE }),
  metrics: new Metrics({ namespace: 'pdm', serviceName: SERVICE }),
});
