/**
 * The embedded local runtime behind `npm start`: one Node process, every AWS service replaced by a
 * stand-in on a random loopback port, and the SAME handler code (`createHandler` of the clean and
 * features functions) with the SAME adapters and SDK v3 clients; only the endpoints differ.
 *
 *   devices (mqtt.js) → aedes (device policy) → rule bridge → kinesalite "raw" → poller → clean handler
 *   → kinesalite "clean" → poller → features handler → dynalite (twins), DuckDB (time series),
 *   SageMaker-protocol server (optional), PutEvents endpoint (alerts).
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamEvent } from 'aws-lambda';
import mqtt, { type MqttClient } from 'mqtt';
import { createFleet, type FleetAsset, type FleetOptions, FleetSimulator } from '../../devices/fleet.ts';
import type { DriftScenario } from '../../devices/scenario.ts';
import { DynamoAssetRegistry, DynamoTwinStore, TWIN_DOCUMENT_OPTIONS } from '../../lambdas/adapters/aws/dynamodb.ts';
import { EventBridgeAlertPublisher } from '../../lambdas/adapters/aws/eventbridge.ts';
import { KinesisStreamWriter } from '../../lambdas/adapters/aws/kinesis.ts';
import { SageMakerScorer } from '../../lambdas/adapters/aws/sagemaker.ts';
import { DuckDbTelemetryStore } from '../../lambdas/adapters/local/duckdb.ts';
import { LocalQuarantineSink } from '../../lambdas/adapters/local/quarantine.ts';
import { historyDirOf, ParquetHistoryStore } from '../../lambdas/adapters/local/history-parquet.ts';
import { bundleModelVersions, challengerModelVersions, HistoryTelemetryStore, IndexedQuarantineSink, TeeTelemetryStore } from '../../lambdas/adapters/history.ts';
import { createShadowScorer, InProcessScorer, readBundleDir } from '../../lambdas/adapters/model.ts';
import { CachedAssetRegistry, type Scorer, type TwinStore } from '../../lambdas/adapters/ports.ts';
import { createHandler as createCleanHandler } from '../../lambdas/clean/app.ts';
import { ALERT_DETAIL_TYPE, ALERT_SOURCE, type TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';
import type { AnomalyBaseline } from '../../lambdas/core/anomaly/types.ts';
import { ASSET_MODELS, findAssetModel } from '../../lambdas/core/catalog/index.ts';
import type { AssetInfo, AssetModel } from '../../lambdas/core/catalog/types.ts';
import { addCounts, type Counts } from '../../lambdas/core/cleaning/counts.ts';
import { EVENT_SCHEMA } from '../../lambdas/core/contract/telemetry.ts';
import { createBundleScorer } from '../../lambdas/core/model/scorer.ts';
import { bundlePolicies } from '../../lambdas/core/pipeline.ts';
import type { Twin } from '../../lambdas/core/twin/twin.ts';
import { createHandler as createFeatureHandler } from '../../lambdas/features/app.ts';
import { projectWhatIf, WhatIfInputError } from '../dashboard/whatif.ts';
import type { DashboardEvent, DashboardSource, DriftPanelData, FleetEntry, HistoryPoint, WhatIfRequest, WhatIfResult } from '../dashboard/source.ts';
import { championsOf, readDriftAlarms, windowPanel } from '../dashboard/drift.ts';
import { startBroker, type LocalBroker } from './broker.ts';
import { CREDENTIALS_FILE, loadOrCreateCredentials } from '../../devices/credentials.ts';
import { RuleBridge } from './bridge.ts';
import { createLocalAlerting } from '../sns/alerting.ts';
import { startModelServer, type ModelServer } from './model-server.ts';
import { waitStreamActive } from './streams.ts';
import { type FailedRecord, KinesisPoller } from './poller.ts';
import {
  ALERTS_SEEN_FILE,
  type Counters,
  emptyCounters,
  type PersistedState,
  readAlertsSeen,
  readSimAcks,
  simAckLine,
  simMessageKey,
  simSentLine,
  readState,
  SIM_ACKS_FILE,
  STATE_VERSION,
  writeSimAcks,
  writeState,
} from './state.ts';
import { REASONS, type ReasonCode } from '../../lambdas/core/cleaning/reasons.ts';
import { DynamoDriftCounterStore, driftTableInput } from '../../lambdas/adapters/aws/drift-dynamodb.ts';
import { DriftMonitor } from '../../lambdas/adapters/drift.ts';
import type { ModelDriftDetectedDetail } from '../../lambdas/core/drift/index.ts';
import { DRIFT_ALARMS_FILE, LocalDriftAlarm } from './drift-alarm.ts';

const require = createRequire(import.meta.url);
type StandInFactory = (opts: Record<string, unknown>) => Server;

export const NAMES = {
  rawStream: 'pdm-local-raw',
  cleanStream: 'pdm-local-clean',
  assetTable: 'pdm-local-assets',
  twinTable: 'pdm-local-twins',
  eventBus: 'pdm-local-bus',
  driftTable: 'pdm-local-drift',
} as const;

/** Simulated time between two samples of a time-clock asset (the simulator's default). */
export const TICK_MS = 600_000;

/** Simulator ticks whose messages may await their PUBACK at once. */
const MAX_TICKS_IN_FLIGHT = 8;

/** MQTT 3.1.1 encodes a topic's length in two bytes. */
const MAX_MQTT_TOPIC_BYTES = 65_535;

export interface LocalRuntimeOptions {
  /** Simulated assets (registered in the assets table). @default 12 */
  readonly assets?: number;
  /** Fleet and simulator seed. @default 1 */
  readonly seed?: number;
  /** Fleet shape overrides (models, failing share, degradation length). @default the simulator's */
  readonly fleet?: Omit<FleetOptions, 'assets' | 'seed'>;
  /**
   * Registers exactly these assets (with their attributes) instead of a generated fleet, for replaying
   * recorded data; `assets` and `fleet` are then ignored. The simulator is not meant to run on them.
   * @default a fleet from `createFleet`
   */
  readonly fleetAssets?: readonly AssetInfo[];
  /** Share of damaged device messages. @default 0 */
  readonly faultRate?: number;
  /** Persist state here; a restart with the same directory resumes. @default in memory */
  readonly dataDir?: string;
  /** `endpoint` scores through the SageMaker-protocol server. @default 'in-lambda' */
  readonly scoring?: 'in-lambda' | 'endpoint';
  /** Model bundle directory. @default layers/model */
  readonly modelDir?: string;
  /** Anomaly baseline per asset model (e.g. refitted for a held-out replay). @default the shipped ones */
  readonly baselineFor?: (model: AssetModel) => AnomalyBaseline;
  /** Handler log level (Powertools). @default 'ERROR' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** Kinesis event source batch size of both functions. @default 100 */
  readonly batchSize?: number;
  /** Batching window of both functions, ms. @default 0 */
  readonly batchingWindowMs?: number;
  /** Retries of a failing record before the on-failure log. @default 3 */
  readonly maxRetries?: number;
  /** Called for every alert that reaches the event bus. */
  readonly onAlert?: (alert: TwinHealthChangedDetail) => void;
  /** Called for a record that exhausted its retries. */
  readonly onFailure?: (record: FailedRecord) => void;
  /**
   * Replaces the alert endpoint (another PutEvents-protocol server). When set, the runtime does not see
   * alerts unless `onAlert` is fed by that server. @default the local EventBridge + SNS (`local/sns`)
   */
  readonly eventBridgeEndpoint?: string;
  /** Local SNS outputs: a JSONL file of deliveries, a webhook, and console lines. @default none */
  readonly alerts?: { readonly jsonlPath?: string; readonly webhookUrl?: string; readonly print?: (line: string) => void };
  /**
   * Simulation scenario (docs/simulator.md, "Scenarios"): `{ name: 'drift', atTick }` shifts the fleet
   * from `atTick` on and makes wear recur; without `fleet.failingShare` half the fleet then wears.
   * @default the default fleet
   */
  readonly scenario?: DriftScenario;
  /**
   * Score the bundle's shadow challengers next to the champions, into the history only (the stage
   * option `models.shadow`, docs/models.md "Shadow challengers"). @default true
   */
  readonly shadow?: boolean;
  /** Drift window and the emulated alarm (docs/drift.md). @default 24 h, 500 rows, threshold 0.2 */
  readonly drift?: { readonly windowHours?: number; readonly minCount?: number; readonly threshold?: number };
}

export interface SimulationOptions {
  /** Simulated seconds per real second. @default 1200 (two ten-minute ticks per second) */
  readonly speed?: number;
  /** Stop after this many ticks (of this run). @default unbounded */
  readonly ticks?: number;
  /** Stop after this many real milliseconds. @default unbounded */
  readonly durationMs?: number;
}

export interface RunSummary {
  readonly messages: { received: number; accepted: number; quarantined: number };
  readonly samples: { received: number; clean: number; quarantined: number };
  readonly readings: { received: number; clean: number; quarantined: number };
  readonly byReason: Record<string, number>;
  readonly twins: number;
  readonly states: Record<string, number>;
  readonly alerts: Record<string, number>;
  readonly refused: {
    /** Publishes refused by the broker (quotas, policy, the rule bridge), with `byReason`. */
    publishes: number;
    connects: number;
    byReason: Record<string, number>;
    connectsByReason: Record<string, number>;
    /** SUBSCRIBE requests refused (the device policy grants none). */
    subscribes: number;
    /** Connections that took over a live session with the same client id. */
    takeovers: number;
  };
  readonly onFailure: number;
  readonly retriedBatches: number;
  /** Publish → twin write completed, this session only. */
  readonly latencyMs: { p50: number | null; p99: number | null; max: number | null; n: number };
  /** This session: real seconds and what went through per second. */
  readonly throughput: { seconds: number; messagesPerSec: number; samplesPerSec: number; readingsPerSec: number };
  /** `resent`: messages of a tick interrupted by a restart sent again because they were never acknowledged. */
  readonly sim: { tick: number; clock: string; resent: number } | null;
  readonly telemetryRows: { telemetry: number; features: number; predictions: number };
  /** Drift this session: the newest PSI per asset model and the emulated alarm's events on the bus. */
  readonly drift: {
    readonly threshold: number;
    readonly latest: Record<string, { psi: number | null; feature: string | null; rows: number }>;
    /** The highest PSI per asset model this session (window end as an epoch hour). */
    readonly peak: Record<string, { psi: number; feature: string; toHour: number }>;
    readonly alarms: readonly ModelDriftDetectedDetail[];
  };
}

export type PublishOutcome = 'accepted' | 'refused' | 'connect-refused';

export interface LocalRuntime extends DashboardSource {
  readonly brokerUrl: string;
  /** JSON file of the per-device credentials (`{ "<assetId>": "<token>" }`) the broker demands. */
  readonly credentialsFile: string;
  readonly fleetAssets: readonly FleetAsset[];
  /** Runs the fleet simulator (resumes where a previous run with the same data dir stopped). */
  simulate(options?: SimulationOptions): Promise<{ ticks: number }>;
  /** Stops a running simulation (resolves when its last tick is published). */
  stopSimulation(): Promise<void>;
  /**
   * Publishes as device `clientId` (connects it first); the device policy applies. `receivedAt` stamps
   * this message (a capture's receive time) instead of the broker clock; give it only while no other
   * message of the same client is in flight.
   */
  publishAs(clientId: string, topic: string, payload: string | Buffer, at?: { readonly receivedAt?: number }): Promise<PublishOutcome>;
  /** Sets the broker clock used as the IoT rule's `timestamp()` (the simulated world's time). */
  setClock(epochMs: number): void;
  /** Resolves when everything accepted so far has gone through both functions. */
  drain(timeoutMs?: number): Promise<void>;
  summary(): Promise<RunSummary>;
  /** Alerts seen by the local bus, in arrival order. */
  readonly alertLog: readonly TwinHealthChangedDetail[];
  stop(): Promise<void>;
}

const DUMMY = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

export class DataDirMismatchError extends Error {
  override readonly name: string = 'DataDirMismatchError';
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Metrics would print EMF lines on stdout; locally the summary carries the same numbers.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const seed = options.seed ?? 1;
  const assetCount = options.fleetAssets?.length ?? options.assets ?? 12;
  const dataDir = options.dataDir;
  const stateFile = dataDir ? join(dataDir, 'runtime-state.json') : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const saved = stateFile ? readState(stateFile) : null;
  if (saved && (saved.fleet.assets !== assetCount || saved.fleet.seed !== seed)) {
    throw new DataDirMismatchError(
      `${dataDir} holds a fleet of ${saved.fleet.assets} assets with seed ${saved.fleet.seed}; ` +
        `start with --assets ${saved.fleet.assets} --seed ${saved.fleet.seed}, or use another --data-dir`,
    );
  }
  const base: Counters = saved?.counters ?? emptyCounters();
  const cleanups: (() => Promise<void>)[] = [];
  // Without a data dir, the streams and the time series still live on disk, in a scratch dir removed
  // on stop: kinesalite keeps every record for the 24 h retention and DuckDB every row, so held in
  // memory they grew the process by about 2 MB/s under `pdm load` (docs/reliability.md).
  const scratch = dataDir ? undefined : mkdtempSync(join(tmpdir(), 'pdm-local-'));
  const storeDir = dataDir ?? scratch!;
  if (scratch) cleanups.push(async () => rmSync(scratch, { recursive: true, force: true }));
  const stopAll = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };

  try {
    // --- stand-ins -------------------------------------------------------------------------------
    const dynalite = require('dynalite') as StandInFactory;
    const kinesalite = require('kinesalite') as StandInFactory;
    const dynamoServer = dynalite({
      createTableMs: 0,
      deleteTableMs: 0,
      updateTableMs: 0,
      ...(dataDir ? { path: join(dataDir, 'dynamodb') } : {}),
    });
    const dynamoPort = await listen(dynamoServer);
    cleanups.push(() => closeServer(dynamoServer));
    const kinesisServer = kinesalite({
      createStreamMs: 0,
      deleteStreamMs: 0,
      updateStreamMs: 0,
      shardLimit: 10,
      path: join(storeDir, 'kinesis'),
    });
    const kinesisPort = await listen(kinesisServer);
    cleanups.push(() => closeServer(kinesisServer));

    const dynamo = new DynamoDBClient({ ...DUMMY, endpoint: `http://127.0.0.1:${dynamoPort}` });
    const doc = DynamoDBDocumentClient.from(dynamo, TWIN_DOCUMENT_OPTIONS);
    const kinesis = new KinesisClient({
      ...DUMMY,
      endpoint: `http://127.0.0.1:${kinesisPort}`,
      requestHandler: new NodeHttpHandler(),
    });
    cleanups.push(async () => {
      dynamo.destroy();
      kinesis.destroy();
    });
    for (const table of [NAMES.assetTable, NAMES.twinTable]) {
      await ignoreExisting(
        dynamo.send(
          new CreateTableCommand({
            TableName: table,
            KeySchema: [{ AttributeName: 'assetId', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'assetId', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        ),
      );
    }
    // Drift counters: the same key schema as the CDK table (dynalite implements ADD; it has no TTL).
    await ignoreExisting(
      dynamo.send(
        new CreateTableCommand(driftTableInput(NAMES.driftTable)),
      ),
    );
    for (const stream of [NAMES.rawStream, NAMES.cleanStream]) {
      await ignoreExisting(kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 })));
      await waitStreamActive(kinesis, stream);
    }

    const fleet: FleetAsset[] = options.fleetAssets
      ? [...options.fleetAssets]
      : createFleet({
          ...options.fleet,
          ...(options.scenario && options.fleet?.failingShare === undefined ? { failingShare: 0.5 } : {}),
          assets: assetCount,
          seed,
        });
    await Promise.all(
      fleet.map((a) =>
        doc.send(
          new PutCommand({
            TableName: NAMES.assetTable,
            Item: { assetId: a.assetId, siteId: a.siteId, modelId: a.modelId, ...(a.attributes ? { attributes: a.attributes } : {}) },
          }),
        ),
      ),
    );
    const siteOf = new Map(fleet.map((a) => [a.assetId, a.siteId]));

    const telemetry = await DuckDbTelemetryStore.open({ path: join(storeDir, 'telemetry.duckdb') });
    cleanups.push(() => telemetry.close());
    // The history tables as Parquet, the layout the Iceberg tables have in AWS (docs/history.md).
    const historyStore = await ParquetHistoryStore.open({ dir: historyDirOf(storeDir) });
    cleanups.push(() => historyStore.close());

    // --- alerts ----------------------------------------------------------------------------------
    // Every alert the bus delivers is appended to a log in the data dir at once, not only at the next
    // periodic save: a run killed between two saves still counts (and never re-counts) what went out.
    const alertsSeenFile = dataDir ? join(dataDir, ALERTS_SEEN_FILE) : undefined;
    const seenBefore = alertsSeenFile ? readAlertsSeen(alertsSeenFile) : null;
    const alertLog: TwinHealthChangedDetail[] = seenBefore ? seenBefore.recent : [...(saved?.recentAlerts ?? [])];
    const seenAlerts = seenBefore ? seenBefore.ids : new Set(alertLog.map((a) => a.alertId));
    const baseAlerts: Record<string, number> = seenBefore ? seenBefore.bySeverity : { ...(saved?.counters.alerts ?? {}) };
    const sessionAlerts: Record<string, number> = {};
    const listeners = new Set<(e: DashboardEvent) => void>();
    const emit = (e: DashboardEvent) => {
      for (const l of listeners) l(e);
    };
    const onEvent = (event: { source?: unknown; 'detail-type'?: unknown; detail?: unknown }) => {
      if (event.source !== ALERT_SOURCE || event['detail-type'] !== ALERT_DETAIL_TYPE || !event.detail) return;
      const alert = event.detail as TwinHealthChangedDetail;
      // At-least-once delivery: a replayed alert keeps its id and is counted once.
      if (seenAlerts.has(alert.alertId)) return;
      seenAlerts.add(alert.alertId);
      if (alertsSeenFile) appendFileSync(alertsSeenFile, `${JSON.stringify(alert)}\n`);
      alertLog.push(alert);
      if (alertLog.length > 1000) alertLog.splice(0, alertLog.length - 1000);
      sessionAlerts[alert.severity] = (sessionAlerts[alert.severity] ?? 0) + 1;
      options.onAlert?.(alert);
      emit({ type: 'alert', alert });
    };
    let eventsEndpoint = options.eventBridgeEndpoint;
    let alertsIdle: () => Promise<void> = async () => {};
    if (!eventsEndpoint) {
      // The same EventBridge rules the CDK stack renders (ALERT_ROUTES), matched by the local pattern
      // matcher, delivering to a local SNS: what routes here routes the same way in the cloud.
      const alerting = await createLocalAlerting({
        sns: {
          print: options.alerts?.print ?? (() => {}),
          ...(options.alerts?.jsonlPath ? { jsonlPath: options.alerts.jsonlPath } : {}),
          ...(options.alerts?.webhookUrl ? { webhookUrl: options.alerts.webhookUrl } : {}),
        },
        onTransition: onEvent,
      });
      cleanups.push(() => alerting.stop());
      eventsEndpoint = alerting.endpoint;
      alertsIdle = () => alerting.idle();
    }
    const events = new EventBridgeClient({ ...DUMMY, endpoint: eventsEndpoint });
    cleanups.push(async () => events.destroy());

    // --- scoring ---------------------------------------------------------------------------------
    const bundle = readBundleDir(options.modelDir ?? join(import.meta.dirname, '..', '..', 'layers', 'model'));
    let scorer: Scorer = new InProcessScorer(bundle);
    let modelServer: ModelServer | undefined;
    if (options.scoring === 'endpoint') {
      modelServer = await startModelServer(bundle);
      const ms = modelServer;
      cleanups.push(() => ms.close());
      const sagemaker = new SageMakerRuntimeClient({ ...DUMMY, endpoint: modelServer.url });
      cleanups.push(async () => sagemaker.destroy());
      scorer = new SageMakerScorer(sagemaker, bundle, { endpoints: modelServer.endpoints, timeoutMs: 2_000 });
    }

    // --- handlers, with the AWS adapters on the stand-ins -----------------------------------------
    const logLevel = options.logLevel ?? 'ERROR';
    const registry = new CachedAssetRegistry(new DynamoAssetRegistry(doc, NAMES.assetTable));
    const cleanSink = new LocalQuarantineSink(dataDir ? join(dataDir, 'quarantine') : undefined);
    const screenSink = new LocalQuarantineSink(dataDir ? join(dataDir, 'quarantine') : undefined);
    const history = new HistoryTelemetryStore(historyStore, {
      modelVersions: bundleModelVersions(bundle),
      challengerVersions: challengerModelVersions(bundle),
      featureEngine: bundle.manifest.featureEngineVersion,
    });
    // As in the Lambda: in process whatever the champion's scoring mode.
    const shadowScorer = options.shadow === false ? null : createShadowScorer(bundle);
    const stores = new TeeTelemetryStore(telemetry, history);
    const latency = new LatencyTracker();
    const twinStore = new ObservedTwinStore(new DynamoTwinStore(doc, NAMES.twinTable), (twin) => {
      latency.twinWritten(twin.assetId, twin.lastSeq);
      emit({ type: 'twin', assetId: twin.assetId });
    });
    const cleanHandler = createCleanHandler({
      registry,
      stream: new KinesisStreamWriter(kinesis, NAMES.cleanStream),
      quarantine: new IndexedQuarantineSink(cleanSink, historyStore),
      telemetry: stores,
      logger: new Logger({ serviceName: 'pdm-clean', logLevel }),
      metrics: new Metrics({ namespace: 'pdm', serviceName: 'pdm-clean' }),
    });
    const driftAlarm = new LocalDriftAlarm({
      events,
      eventBus: NAMES.eventBus,
      ...(options.drift?.threshold !== undefined ? { threshold: options.drift.threshold } : {}),
      ...(dataDir ? { jsonlPath: join(dataDir, DRIFT_ALARMS_FILE) } : {}),
      print: options.alerts?.print ?? (() => {}),
    });
    const driftMonitor = new DriftMonitor(new DynamoDriftCounterStore(doc, NAMES.driftTable), bundle, {
      ...(options.drift?.windowHours !== undefined ? { windowHours: options.drift.windowHours } : {}),
      ...(options.drift?.minCount !== undefined ? { minCount: options.drift.minCount } : {}),
      // Simulated hours pass in seconds locally: read the window every batch.
      evaluateEveryMs: 0,
    });
    const featureHandler = createFeatureHandler({
      registry,
      twins: twinStore,
      scorer,
      telemetry: stores,
      history,
      quarantine: new IndexedQuarantineSink(screenSink, historyStore),
      alerts: new EventBridgeAlertPublisher(events, NAMES.eventBus),
      ...(options.baselineFor ? { baselineFor: options.baselineFor } : {}),
      logger: new Logger({ serviceName: 'pdm-features', logLevel }),
      metrics: new Metrics({ namespace: 'pdm', serviceName: 'pdm-features' }),
      policiesFor: bundlePolicies(bundle),
      drift: driftAlarm.watch(driftMonitor),
      ...(shadowScorer ? { shadow: { score: shadowScorer, history } } : {}),
    });

    let cleanCounts: Counts = {
      messages: { received: 0, accepted: 0, quarantined: 0 },
      samples: { received: 0, clean: 0, quarantined: 0 },
      readings: { received: 0, clean: 0, quarantined: 0 },
    };
    const countedClean = async (event: KinesisStreamEvent, ctx: Parameters<typeof cleanHandler>[1]) => {
      cleanHandler.lastSummary = undefined;
      const res = await cleanHandler(event, ctx);
      const s = cleanHandler.lastSummary as { counts: Counts } | undefined;
      if (s) cleanCounts = sumCounts(cleanCounts, s.counts);
      return res;
    };

    const onFailure = (r: FailedRecord) => options.onFailure?.(r);
    const pollerOptions = {
      kinesis,
      batchSize: options.batchSize ?? 100,
      batchingWindowMs: options.batchingWindowMs ?? 0,
      maxRetries: options.maxRetries ?? 3,
      onFailure,
    };
    const rawPoller = new KinesisPoller({
      ...pollerOptions,
      streamName: NAMES.rawStream,
      functionName: 'pdm-local-clean',
      handler: countedClean,
      checkpoints: saved?.checkpoints.raw ?? {},
    });
    const cleanPoller = new KinesisPoller({
      ...pollerOptions,
      streamName: NAMES.cleanStream,
      functionName: 'pdm-local-features',
      handler: featureHandler,
      checkpoints: saved?.checkpoints.clean ?? {},
    });
    await rawPoller.start();
    await cleanPoller.start();
    cleanups.push(async () => {
      await rawPoller.stop();
      await cleanPoller.stop();
    });

    // --- ingress ---------------------------------------------------------------------------------
    const bridge = new RuleBridge({ kinesis, streamName: NAMES.rawStream });
    let clock: number | null = saved?.sim?.clock ?? null;
    /** Receive times given with a publish (a capture's), by client id: one message in flight per such client. */
    const stamps = new Map<string, number>();
    const credentials = loadOrCreateCredentials(join(storeDir, CREDENTIALS_FILE), fleet.map((a) => a.assetId));
    const broker: LocalBroker = await startBroker({
      siteOf: (id) => siteOf.get(id),
      credentialOf: (id) => credentials.get(id),
      onMessage: (m) => bridge.accept(m),
      now: (id) => stamps.get(id) ?? clock ?? Date.now(),
    });
    // Stopped first (cleanups run in reverse): no new messages, then the bridge writes what it holds.
    cleanups.push(async () => {
      await bridge.close();
    });
    cleanups.push(() => broker.close());

    const clients = new Map<string, Promise<MqttClient | null>>();
    const connect = (clientId: string): Promise<MqttClient | null> => {
      // One connection per device: a second CONNECT with the same client id would take the session over.
      let pending = clients.get(clientId);
      if (!pending) {
        const password = credentials.get(clientId);
        pending = mqtt
          .connectAsync(broker.url, {
            clientId,
            reconnectPeriod: 0,
            clean: true,
            protocolVersion: 4,
            ...(password !== undefined ? { username: clientId, password } : {}),
          })
          .then(
            (client) => {
              client.on('error', () => undefined);
              // One 'close' listener per publish awaiting its PUBACK (see publishAs).
              client.setMaxListeners(4 * MAX_TICKS_IN_FLIGHT + 10);
              client.once('close', () => {
                if (clients.get(clientId) === pending) clients.delete(clientId);
              });
              return client;
            },
            () => {
              clients.delete(clientId);
              return null;
            },
          );
        clients.set(clientId, pending);
      }
      return pending;
    };
    cleanups.push(async () => {
      await Promise.all([...clients.values()].map(async (p) => (await p)?.endAsync(true).catch(() => undefined)));
      clients.clear();
    });
    const publishAs = async (clientId: string, topic: string, payload: string | Buffer, at?: { receivedAt?: number }): Promise<PublishOutcome> => {
      const pending = connect(clientId);
      const client = await pending;
      if (!client) return 'connect-refused';
      // MQTT 3.1.1 carries a topic of at most 65,535 bytes: the client cannot even send a longer one,
      // so the refusal the broker would give is counted here, before anything is written.
      if (Buffer.byteLength(topic, 'utf8') > MAX_MQTT_TOPIC_BYTES) {
        broker.refuse(clientId, 'topic_too_long');
        return 'refused';
      }
      latency.published(topic, payload);
      if (at?.receivedAt !== undefined) stamps.set(clientId, at.receivedAt);
      // A refused publish gets no PUBACK: the broker closes the connection instead.
      let onClose = () => undefined as void;
      const closed = new Promise<'refused'>((resolve) => {
        onClose = () => resolve('refused');
        client.once('close', onClose);
      });
      let outcome: PublishOutcome;
      try {
        outcome = await Promise.race([
          client.publishAsync(topic, payload, { qos: 1 }).then(
            () => 'accepted' as const,
            () => 'refused' as const,
          ),
          closed,
        ]);
      } finally {
        client.off('close', onClose);
        if (at?.receivedAt !== undefined) stamps.delete(clientId);
      }
      if (outcome === 'refused') {
        // The broker closes a refused client: forget it now (not on its 'close' event, which comes
        // later), so the device's next message goes over a new connection instead of the dying one.
        if (clients.get(clientId) === pending) clients.delete(clientId);
        await client.endAsync(true).catch(() => undefined);
      }
      return outcome;
    };

    // --- simulation ------------------------------------------------------------------------------
    const sim = new FleetSimulator(fleet, {
      seed,
      faultRate: options.faultRate ?? 0,
      events: true,
      ...(options.scenario ? { scenario: options.scenario } : {}),
    });
    const seqs: Record<string, number> = {};
    // Resume: the simulator is deterministic for a seed, so replaying its steps restores its state.
    for (let t = 0; t < (saved?.sim?.tick ?? 0); t++) for (const m of sim.step()) trackSeq(seqs, m.assetId, m.payload);
    if (saved?.sim && JSON.stringify(seqs) !== JSON.stringify(saved.sim.seqs)) {
      throw new DataDirMismatchError(`${dataDir}: the simulator does not replay to the saved sequence numbers`);
    }
    // A device does not send again what the broker acknowledged. The acknowledgements of ticks after
    // the saved one are in the ack log (appended per PUBACK): on resume those messages are skipped,
    // and only the ones never acknowledged are sent again, as a device's QoS 1 retry would.
    const acksFile = dataDir ? join(dataDir, SIM_ACKS_FILE) : undefined;
    const simLog = acksFile ? readSimAcks(acksFile, saved?.sim?.tick ?? 0) : { acked: new Map<number, Set<string>>(), lastSent: 0 };
    const acked = simLog.acked;
    /** The last tick handed to the broker, this process or the one before it (the ack log says). */
    let lastSent = simLog.lastSent;
    /** Seqs as of the last tick whose every message has an outcome: what a snapshot may promise. */
    let doneSeqs: Record<string, number> = { ...seqs };
    let doneTick = sim.tick;
    let resent = 0;
    /**
     * On a resume, every tick the previous process had started to publish may have messages in the
     * stream without a logged acknowledgement (written, PUBACK not yet received): sending those again
     * is a resend, as a device's QoS 1 retry after a reconnect is.
     */
    const interruptedUpTo = simLog.lastSent;
    const ack = (tick: number, key: string) => {
      let set = acked.get(tick);
      if (!set) acked.set(tick, (set = new Set()));
      set.add(key);
      if (acksFile) appendFileSync(acksFile, simAckLine(tick, key));
    };
    let simStop = false;
    let simRun: Promise<{ ticks: number }> | null = null;
    const simulate = (o: SimulationOptions = {}): Promise<{ ticks: number }> => {
      if (simRun) return simRun;
      simStop = false;
      const ticksPerSec = (o.speed ?? 1200) / (TICK_MS / 1000);
      const started = performance.now();
      simRun = (async () => {
        let done = 0;
        // Devices keep publishing while earlier QoS 1 messages wait for their PUBACK (which comes once
        // the record is in the stream): up to MAX_TICKS_IN_FLIGHT ticks are in flight at once.
        const inFlight = new Map<number, Promise<void>>();
        const seqsAt = new Map<number, Record<string, number>>();
        const finished = new Set<number>();
        const settle = (tick: number) => {
          finished.add(tick);
          // The snapshot may promise only a prefix of ticks whose every message has an outcome. The
          // acknowledgements of a finished tick after that prefix stay in the ack log until the prefix
          // reaches it: a save in between must not forget them (they would be sent again).
          while (finished.has(doneTick + 1)) {
            doneTick += 1;
            finished.delete(doneTick);
            acked.delete(doneTick);
            doneSeqs = seqsAt.get(doneTick) ?? doneSeqs;
            seqsAt.delete(doneTick);
          }
        };
        while (!simStop && (o.ticks === undefined || done < o.ticks)) {
          const elapsed = performance.now() - started;
          if (o.durationMs !== undefined && elapsed >= o.durationMs) break;
          const due = Math.floor((elapsed / 1000) * ticksPerSec) + 1;
          if (done >= due) {
            await sleep(Math.min(50, ((done / ticksPerSec) * 1000 - elapsed) + 1));
            continue;
          }
          if (inFlight.size >= MAX_TICKS_IN_FLIGHT) await Promise.race(inFlight.values());
          clock = sim.now + 1_000;
          const messages = sim.step();
          const tick = sim.tick;
          const already = acked.get(tick);
          for (const m of messages) trackSeq(seqs, m.assetId, m.payload);
          seqsAt.set(tick, { ...seqs });
          lastSent = Math.max(lastSent, tick);
          if (acksFile && messages.length > 0) appendFileSync(acksFile, simSentLine(tick));
          const publishing = Promise.all(
            // Keyed by index in the tick: an asset sends telemetry, events and maintenance in one tick.
            messages.map(async (m, index) => {
              const key = simMessageKey(index);
              if (already?.has(key)) return; // acknowledged before a restart: not sent again
              // Sent before the restart perhaps, never acknowledged: sent again, as a QoS 1 retry.
              if (tick <= interruptedUpTo) resent += 1;
              await publishAs(m.assetId, m.topic, m.payload);
              ack(tick, key);
            }),
          ).then(() => {
            inFlight.delete(tick);
            settle(tick);
          });
          inFlight.set(tick, publishing);
          done += 1;
        }
        await Promise.all(inFlight.values());
        return { ticks: done };
      })().finally(() => (simRun = null));
      return simRun;
    };
    const stopSimulation = async () => {
      simStop = true;
      if (simRun) await simRun;
    };
    cleanups.push(stopSimulation);

    // --- accounting and persistence -------------------------------------------------------------
    const sessionStart = performance.now();
    /**
     * The clean function's counts (saved with the raw stream's checkpoints, so a restart neither loses
     * nor repeats them) and the broker's. What screening in the features function quarantined lives in
     * each twin's screening tally, written with the twin: {@link withScreening} folds it in.
     */
    const current = (): Counters => {
      const byReason: Record<string, number> = { ...base.byReason };
      for (const [r, n] of Object.entries(cleanSink.tally.byReason)) byReason[r] = (byReason[r] ?? 0) + n;
      const alerts = { ...baseAlerts };
      for (const [s, n] of Object.entries(sessionAlerts)) alerts[s] = (alerts[s] ?? 0) + n;
      return {
        messages: addTriple(base.messages, cleanCounts.messages),
        samples: addTriple(base.samples, cleanCounts.samples),
        readings: addTriple(base.readings, cleanCounts.readings),
        byReason,
        screenByLevel: {},
        alerts,
        refusedPublishes: base.refusedPublishes + broker.counters.refusedPublishes,
        refusedConnects: base.refusedConnects + broker.counters.refusedConnects,
        refusedByReason: addTally(base.refusedByReason ?? {}, broker.counters.refusedByReason),
        connectsRefusedByReason: addTally(base.connectsRefusedByReason ?? {}, broker.counters.connectsRefusedByReason),
        refusedSubscribes: (base.refusedSubscribes ?? 0) + broker.counters.refusedSubscribes,
        takeovers: (base.takeovers ?? 0) + broker.counters.takeovers,
        onFailure: base.onFailure + rawPoller.stats.onFailure + cleanPoller.stats.onFailure,
        retriedBatches: base.retriedBatches + rawPoller.stats.retriedBatches + cleanPoller.stats.retriedBatches,
        rawWritten: base.rawWritten + bridge.stats.written,
      };
    };
    /** What a restart needs; taken only while both pollers are paused or stopped, so it is consistent. */
    const snapshot = (): PersistedState => ({
      version: STATE_VERSION,
      fleet: { assets: assetCount, seed },
      checkpoints: { raw: { ...rawPoller.checkpoints }, clean: { ...cleanPoller.checkpoints } },
      counters: current(),
      // The last tick whose every message has an outcome; a tick still in flight is resumed from the ack log.
      sim: { tick: doneTick, clock: clock ?? sim.now, seqs: { ...doneSeqs } },
      recentAlerts: alertLog.slice(-200),
    });
    const save = async () => {
      if (!stateFile) return;
      await Promise.all([rawPoller.pause(), cleanPoller.pause()]);
      try {
        const state = snapshot();
        writeState(stateFile, state);
        if (acksFile) writeSimAcks(acksFile, { acked, lastSent }, state.sim?.tick ?? 0);
      } finally {
        rawPoller.resume();
        cleanPoller.resume();
      }
    };
    let saver: NodeJS.Timeout | undefined;
    if (stateFile) {
      saver = setInterval(() => void save(), 5_000);
      saver.unref();
    }

    const drain = async (timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      let quiet = 0;
      const late = () => new DrainTimeoutError(`pipeline still busy after ${timeoutMs} ms`);
      while (quiet < 3) {
        if (Date.now() > deadline) throw late();
        // The bridge's own retries are bounded, but the deadline is the caller's: never wait past it.
        await withDeadline(bridge.flush(), deadline, late);
        const settled =
          bridge.pending === 0 &&
          cleanCounts.messages.received >= bridge.stats.written &&
          rawPoller.isIdle &&
          cleanPoller.isIdle;
        quiet = settled ? quiet + 1 : 0;
        await sleep(40);
      }
      // EventBridge delivers asynchronously after PutEvents answers: wait for the SNS deliveries too.
      await alertsIdle();
    };

    const twinOf = (assetId: string) => twinStore.get(assetId).then((t) => t ?? null);
    const summary = async (): Promise<RunSummary> => {
      const twins = (await Promise.all(fleet.map((a) => twinOf(a.assetId)))).filter((t): t is Twin => t !== null);
      const c = withScreening(current(), twins);
      const states: Record<string, number> = {};
      for (const t of twins) states[t.health.state] = (states[t.health.state] ?? 0) + 1;
      const seconds = (performance.now() - sessionStart) / 1000;
      const per = (n: number) => Math.round((n / Math.max(seconds, 1e-9)) * 10) / 10;
      return {
        messages: c.messages,
        samples: c.samples,
        readings: c.readings,
        byReason: c.byReason,
        twins: twins.length,
        states,
        alerts: c.alerts,
        refused: {
          publishes: c.refusedPublishes,
          connects: c.refusedConnects,
          byReason: c.refusedByReason ?? {},
          connectsByReason: c.connectsRefusedByReason ?? {},
          subscribes: c.refusedSubscribes ?? 0,
          takeovers: c.takeovers ?? 0,
        },
        onFailure: c.onFailure,
        retriedBatches: c.retriedBatches,
        latencyMs: latency.percentiles(),
        throughput: {
          seconds: Math.round(seconds * 10) / 10,
          messagesPerSec: per(cleanCounts.messages.received),
          samplesPerSec: per(cleanCounts.samples.clean),
          readingsPerSec: per(cleanCounts.readings.clean),
        },
        sim: sim.tick > 0 ? { tick: sim.tick, clock: new Date(sim.now).toISOString(), resent } : null,
        telemetryRows: await telemetry.counts(),
        drift: {
          threshold: driftAlarm.threshold,
          latest: Object.fromEntries([...driftAlarm.latest].map(([id, r]) => [id, { psi: r.psi, feature: r.feature, rows: r.rows }])),
          peak: Object.fromEntries(driftAlarm.peak),
          alarms: [...driftAlarm.fired],
        },
      };
    };

    let whatIfScorer: ReturnType<typeof createBundleScorer> | undefined;
    let driftChampions: ReturnType<typeof championsOf> | undefined;
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      if (saver) clearInterval(saver);
      await stopSimulation();
      // Everything the broker accepted goes into the stream before the pollers stop (nothing lost).
      await bridge.flush();
      await rawPoller.stop();
      await cleanPoller.stop();
      if (stateFile) {
        // Pollers are stopped: checkpoints and counters are consistent.
        const state = snapshot();
        writeState(stateFile, state);
        if (acksFile) writeSimAcks(acksFile, { acked, lastSent }, state.sim?.tick ?? 0);
      }
      await stopAll();
    };

    const runtime: LocalRuntime = {
      brokerUrl: broker.url,
      credentialsFile: join(storeDir, CREDENTIALS_FILE),
      fleetAssets: fleet,
      alertLog,
      simulate,
      stopSimulation,
      publishAs,
      setClock: (ms) => {
        clock = ms;
      },
      drain,
      summary,
      stop,
      models: (): readonly AssetModel[] => ASSET_MODELS,
      fleet: async (): Promise<readonly FleetEntry[]> =>
        Promise.all(
          fleet.map(async (a) => ({ assetId: a.assetId, siteId: a.siteId, modelId: a.modelId, twin: await twinOf(a.assetId) })),
        ),
      twin: twinOf,
      history: async (assetId: string, limit: number): Promise<readonly HistoryPoint[]> =>
        (await telemetry.history(assetId, limit)).map((p) => ({ ...p, risk: null })),
      alerts: async (limit: number) => alertLog.slice(-Math.max(0, limit)).reverse(),
      whatIf: async (request: WhatIfRequest): Promise<WhatIfResult> => {
        const twin = await twinOf(request.assetId);
        const model = twin ? findAssetModel(twin.modelId) : undefined;
        if (!twin || !model) throw new WhatIfInputError(`asset ${request.assetId} has no twin yet`);
        whatIfScorer ??= createBundleScorer(bundle);
        return projectWhatIf({ twin, model, bundle, scorer: whatIfScorer, component: request.component, deferDays: request.deferDays });
      },
      // The live drift window the emulated alarm judges; the alarms of every session of the data dir.
      drift: async (): Promise<DriftPanelData> => {
        driftChampions ??= championsOf(bundle);
        return windowPanel({
          bundle,
          champions: driftChampions,
          latest: driftAlarm.latest,
          windowHours: driftMonitor.windowHours,
          minCount: driftMonitor.minCount,
          threshold: driftAlarm.threshold,
          alarms: dataDir ? readDriftAlarms(join(dataDir, DRIFT_ALARMS_FILE)) : driftAlarm.fired,
        });
      },
      subscribe: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    return runtime;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export class DrainTimeoutError extends Error {
  override readonly name: string = 'DrainTimeoutError';
}

/** Twin store that reports each completed write (latency, dashboard updates). */
class ObservedTwinStore implements TwinStore {
  /** The last twin written per asset, so that a settled outbox can be reported as a new state. */
  private readonly last = new Map<string, Twin>();
  constructor(
    private readonly inner: TwinStore,
    private readonly written: (twin: Twin) => void,
  ) {}
  get(assetId: string) {
    return this.inner.get(assetId);
  }
  async put(twin: Twin, expectedVersion: number | null) {
    await this.inner.put(twin, expectedVersion);
    this.last.set(twin.assetId, twin);
    this.written(twin);
  }
  async settleAlerts(assetId: string, version: number, remaining: readonly TwinHealthChangedDetail[]) {
    const settled = await this.inner.settleAlerts(assetId, version, remaining);
    const twin = this.last.get(assetId);
    if (settled && twin?.version === version) {
      const next: Twin = { ...twin };
      if (remaining.length > 0) next.pendingAlerts = [...remaining];
      else delete next.pendingAlerts;
      this.last.set(assetId, next);
      this.written(next);
    }
    return settled;
  }
}

/**
 * Publish → twin-written latency per sample: a publish records (asset, seq) with its time; a twin write
 * whose `lastSeq` reaches a seq completes it. Samples that never reach a twin (quarantined) are dropped
 * once a later seq of the same asset completes.
 */
export class LatencyTracker {
  private readonly pending = new Map<string, { seq: number; t: number }[]>();
  private readonly values: number[] = [];

  published(topic: string, payload: string | Buffer): void {
    const assetId = topic.split('/')[2];
    if (!assetId || !topic.endsWith('/telemetry')) return;
    const seqs = seqsOf(typeof payload === 'string' ? payload : payload.toString('utf8'));
    if (seqs.length === 0) return;
    const t = performance.now();
    let list = this.pending.get(assetId);
    if (!list) this.pending.set(assetId, (list = []));
    for (const seq of seqs) list.push({ seq, t });
  }

  twinWritten(assetId: string, lastSeq: number): void {
    const list = this.pending.get(assetId);
    if (!list) return;
    const now = performance.now();
    let i = 0;
    while (i < list.length && list[i]!.seq <= lastSeq) this.values.push(now - list[i++]!.t);
    if (i > 0) list.splice(0, i);
  }

  percentiles(): { p50: number | null; p99: number | null; max: number | null; n: number } {
    if (this.values.length === 0) return { p50: null, p99: null, max: null, n: 0 };
    const sorted = Float64Array.from(this.values).sort();
    const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
    return { p50: at(0.5), p99: at(0.99), max: Math.round(sorted[sorted.length - 1]! * 10) / 10, n: sorted.length };
  }
}

function seqsOf(text: string): number[] {
  try {
    const body = JSON.parse(text) as { schema?: unknown; seq?: unknown; samples?: { seq?: unknown }[] };
    // Device events number their own log: their seqs are not telemetry seqs.
    if (body.schema === EVENT_SCHEMA) return [];
    if (typeof body.seq === 'number') return [body.seq];
    if (Array.isArray(body.samples)) return body.samples.map((s) => s.seq).filter((s): s is number => typeof s === 'number');
  } catch {
    // A damaged payload has no seq to time; cleaning quarantines it.
  }
  return [];
}

function trackSeq(seqs: Record<string, number>, assetId: string, payload: string): void {
  const s = seqsOf(payload);
  const last = s[s.length - 1];
  if (last !== undefined) seqs[assetId] = Math.max(seqs[assetId] ?? 0, last);
}

/**
 * Folds what screening quarantined (each twin's tally, written with the twin) into the clean function's
 * counts: a sample cleaning passed and screening quarantined moves from clean to quarantined with its
 * readings, and a message none of whose samples (or device events) survived moves from accepted to
 * quarantined.
 */
export function withScreening(c: Counters, twins: readonly Twin[]): Counters {
  let messages = 0;
  let samples = 0;
  let readings = 0;
  const byReason: Record<string, number> = { ...c.byReason };
  const byLevel: Record<string, number> = {};
  const addReasons = (reasons: Readonly<Record<string, number>>) => {
    for (const [reason, n] of Object.entries(reasons)) {
      byReason[reason] = (byReason[reason] ?? 0) + n;
      const level = Object.hasOwn(REASONS, reason) ? REASONS[reason as ReasonCode] : 'unknown';
      byLevel[level] = (byLevel[level] ?? 0) + n;
    }
  };
  for (const twin of twins) {
    const tally = twin.screen?.tally;
    if (tally) {
      messages += tally.messages;
      samples += tally.samples;
      readings += tally.readings;
      addReasons(tally.byReason);
    }
    // Device events: a resent event (duplicate seq) is quarantined here, and its message with it.
    const events = twin.eventScreen?.tally;
    if (events) {
      messages += events.messages;
      addReasons(events.byReason);
    }
  }
  return {
    ...c,
    messages: { received: c.messages.received, accepted: c.messages.accepted - messages, quarantined: c.messages.quarantined + messages },
    samples: { received: c.samples.received, clean: c.samples.clean - samples, quarantined: c.samples.quarantined + samples },
    readings: { received: c.readings.received, clean: c.readings.clean - readings, quarantined: c.readings.quarantined + readings },
    byReason,
    screenByLevel: byLevel,
  };
}

function addTally(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const out = Object.create(null) as Record<string, number>;
  for (const t of [a, b]) for (const [k, n] of Object.entries(t)) out[k] = (Object.hasOwn(out, k) ? out[k]! : 0) + n;
  return out;
}

/** Resolves or rejects as `p` does, or rejects with `late()` at `deadline` (epoch ms), whichever is first. */
async function withDeadline<T>(p: Promise<T>, deadline: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(late()), Math.max(0, deadline - Date.now()));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function addTriple<K extends string>(a: Readonly<Record<K, number>>, b: Readonly<Record<K, number>>): Record<K, number> {
  const out = { ...a } as Record<K, number>;
  for (const k of Object.keys(b) as K[]) out[k] = (a[k] ?? 0) + (b[k] ?? 0);
  return out;
}

function sumCounts(a: Counts, b: Counts): Counts {
  return addCounts(a, b);
}

async function ignoreExisting(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
