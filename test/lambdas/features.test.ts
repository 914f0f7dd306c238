import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient, InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { RejectedRecordsException, TimestreamWriteClient, WriteRecordsCommand } from '@aws-sdk/client-timestream-write';
import { mockClient } from 'aws-sdk-client-mock';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAssetRegistry, DynamoTwinStore } from '../../lambdas/adapters/aws/dynamodb.ts';
import { EventBridgeAlertPublisher } from '../../lambdas/adapters/aws/eventbridge.ts';
import { S3QuarantineSink } from '../../lambdas/adapters/aws/s3.ts';
import { SageMakerScorer } from '../../lambdas/adapters/aws/sagemaker.ts';
import { TimestreamTelemetryStore } from '../../lambdas/adapters/aws/timestream.ts';
import { InProcessScorer, readBundleDir } from '../../lambdas/adapters/model.ts';
import { type AlertPublisher, NoopTelemetryStore, type TwinStore } from '../../lambdas/adapters/ports.ts';
import { encodeCleanItem, packItems } from '../../lambdas/adapters/records.ts';
import { fleetLookup } from '../../devices/fleet.ts';
import { DEFAULT_BASELINES } from '../../lambdas/core/anomaly/index.ts';
import type { TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';
import { cleanMessage } from '../../lambdas/core/cleaning/clean.ts';
import { createBundleScorer } from '../../lambdas/core/model/scorer.ts';
import { processMessages } from '../../lambdas/core/pipeline.ts';
import { logicalState, type Twin, type TwinInput } from '../../lambdas/core/twin/twin.ts';
import { createHandler, type FeatureDeps } from '../../lambdas/features/app.ts';
import { type Dynamo, kinesisEvent, lambdaContext, startDynalite } from '../adapters/standins.ts';
import { quietLogger, registerFleet, simulate, testMetrics } from './fixtures.ts';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDriftCounterStore, driftTableInput } from '../../lambdas/adapters/aws/drift-dynamodb.ts';
import { DriftMonitor } from '../../lambdas/adapters/drift.ts';
import { DRIFT_METRIC } from '../../lambdas/core/drift/index.ts';

// The pump's predictors only: the shipped bundle is being retrained, the pump's are stable.
const shipped = readBundleDir('layers/model');
const bundle = { manifest: shipped.manifest, models: new Map([['centrifugal-pump', shipped.models.get('centrifugal-pump')!]]) };
const { fleet, ticks } = simulate({ assets: 4, seed: 5, ticks: 150, models: ['centrifugal-pump', 'industrial-machine'], failingShare: 0.5 });
const lookup = fleetLookup(fleet);

const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
let db: Dynamo;

beforeAll(async () => {
  db = await startDynalite();
  await Promise.all(['assets', 'twins-a', 'twins-b', 'twins-c', 'twins-d', 'twins-e'].map((t) => db.createTable(t)));
  await registerFleet(db.doc, 'assets', fleet);
  s3.on(PutObjectCommand).resolves({});
  events.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'e' })) }));
});
afterAll(async () => {
  await db.close();
  s3.restore();
  events.restore();
});

/** The raw stream position (as a Kinesis sequence number) of message `i` of tick `t`: the clean function's message id. */
const position = (t: number, i: number) => String(t * 1000 + i + 1);

/** Clean stream events for ticks [from, to): what the clean function would have written. */
function cleanEvent(from: number, to: number): KinesisStreamEvent {
  const perAsset = new Map<string, { text: string; source: string }[]>();
  ticks.slice(from, to).forEach((tick, t) =>
    tick.forEach((r, i) => {
      const res = cleanMessage({ topic: r.topic, payload: r.payload, receivedAt: r.receivedAt, messageId: position(from + t, i) }, { lookupAsset: lookup });
      const items: TwinInput[] = [
        ...res.samples.map((sample) => ({ kind: 'sample' as const, sample })),
        ...res.maintenance.map((event) => ({ kind: 'maintenance' as const, event })),
      ];
      for (const item of items) {
        const id = item.kind === 'sample' ? item.sample.assetId : item.event.assetId;
        perAsset.set(id, [...(perAsset.get(id) ?? []), { text: encodeCleanItem(item), source: id }]);
      }
    }),
  );
  // Small records so that an asset spans several Kinesis records.
  return kinesisEvent([...perAsset].flatMap(([id, lines]) => packItems(lines, 4096).map((p) => ({ partitionKey: id, data: p.data }))));
}

function deps(twinTable: string, overrides: Partial<FeatureDeps> = {}): FeatureDeps {
  return {
    registry: new DynamoAssetRegistry(db.doc, 'assets'),
    twins: new DynamoTwinStore(db.doc, twinTable),
    scorer: new InProcessScorer(bundle),
    telemetry: new NoopTelemetryStore(),
    quarantine: new S3QuarantineSink(new S3Client({ region: 'us-east-1' }), 'bucket'),
    alerts: new EventBridgeAlertPublisher(new EventBridgeClient({ region: 'us-east-1' }), 'pdm-bus'),
    logger: quietLogger(),
    metrics: testMetrics(),
    ...overrides,
  };
}

/** The core pipeline over the same messages in one go: what the twins must equal. */
function reference(toTick: number): ReadonlyMap<string, Twin> {
  const messages = ticks.slice(0, toTick).flatMap((tick, t) => tick.map((r, i) => ({ topic: r.topic, payload: r.payload, receivedAt: r.receivedAt, messageId: position(t, i) })));
  return processMessages(messages, new Map(), {
    lookupAsset: lookup,
    baselineFor: (m) => DEFAULT_BASELINES[m.id]!,
    scorer: createBundleScorer(bundle),
  }).twins;
}

const publishedAlerts = (): TwinHealthChangedDetail[] =>
  events.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => JSON.parse(e.Detail!) as TwinHealthChangedDetail));

describe('features handler', () => {
  it('writes twins equal to one in-process application, publishes alerts for a degrading asset, and ignores a replay', async () => {
    events.resetHistory();
    const handler = createHandler(deps('twins-a'));
    const store = new DynamoTwinStore(db.doc, 'twins-a');

    for (let t = 0; t < 150; t += 25) {
      const res = await handler(cleanEvent(t, t + 25), lambdaContext(`req-${t}`));
      expect(res.batchItemFailures).toEqual([]);
    }

    const expected = reference(150);
    for (const asset of fleet) {
      const twin = await store.get(asset.assetId);
      expect(logicalState(twin!)).toEqual(logicalState(expected.get(asset.assetId)!));
    }
    const alerts = publishedAlerts();
    const degrading = fleet.filter((a) => a.degradation).map((a) => a.assetId);
    expect(alerts.some((a) => degrading.includes(a.assetId) && a.severity !== 'info')).toBe(true);
    expect(new Set(alerts.map((a) => a.alertId)).size).toBe(alerts.length);

    const before = await Promise.all(fleet.map((a) => store.get(a.assetId)));
    const replay = await handler(cleanEvent(125, 150), lambdaContext('replay'));
    expect(replay.batchItemFailures).toEqual([]);
    expect(handler.lastSummary!.twinsWritten).toBe(0);
    expect(await Promise.all(fleet.map((a) => store.get(a.assetId)))).toEqual(before);
  });

  it('re-applies after a concurrent write and ends equal to a single clean application', async () => {
    const real = new DynamoTwinStore(db.doc, 'twins-b');
    const target = fleet[0]!.assetId;
    let bumps = 0;
    const racing: TwinStore = {
      get: (id) => real.get(id),
      settleAlerts: (id, version, remaining) => real.settleAlerts(id, version, remaining),
      async put(twin, expected) {
        if (twin.assetId === target && bumps < 2) {
          // Another writer lands between our read and our write: same content, newer version.
          bumps++;
          const stored = await real.get(target);
          if (stored) await real.put({ ...stored, version: stored.version + 1 }, stored.version);
        }
        return real.put(twin, expected);
      },
    };
    const handler = createHandler(deps('twins-b', { twins: racing }));

    await handler(cleanEvent(0, 10), lambdaContext());
    const res = await handler(cleanEvent(10, 20), lambdaContext());

    expect(res.batchItemFailures).toEqual([]);
    expect(handler.lastSummary!.conflicts).toBe(1);
    expect(bumps).toBe(2);
    const twin = await real.get(target);
    expect(logicalState(twin!)).toEqual(logicalState(reference(20).get(target)!));
  });

  it('reports only the failing asset’s records when one asset cannot be written', async () => {
    const real = new DynamoTwinStore(db.doc, 'twins-c');
    const victim = fleet[2]!.assetId;
    const broken: TwinStore = {
      get: (id) => real.get(id),
      settleAlerts: (id, version, remaining) => real.settleAlerts(id, version, remaining),
      put: (twin, expected) => (twin.assetId === victim ? Promise.reject(new Error('ProvisionedThroughputExceeded')) : real.put(twin, expected)),
    };
    const event = cleanEvent(0, 10);

    const res = await createHandler(deps('twins-c', { twins: broken }))(event, lambdaContext());

    const victimSeqs = event.Records.filter((r) => r.kinesis.partitionKey === victim).map((r) => r.kinesis.sequenceNumber);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(victimSeqs.sort());
    expect(await real.get(victim)).toBeUndefined();
    expect(await real.get(fleet[0]!.assetId)).toBeDefined();
  });

  it('keeps alerts the bus refuses in the twin outbox, redelivers the records, and then sends each alert once', async () => {
    const table = 'twins-e';
    const store = new DynamoTwinStore(db.doc, table);
    const refusing: AlertPublisher = { publish: async (alerts) => ({ failed: alerts.map((alert) => ({ alert, error: 'ThrottlingException' })) }) };
    const event = cleanEvent(0, 150);

    const first = await createHandler(deps(table, { alerts: refusing }))(event, lambdaContext());
    const pending = new Map<string, TwinHealthChangedDetail[]>();
    for (const a of fleet) {
      const twin = await store.get(a.assetId);
      if (twin?.pendingAlerts) pending.set(a.assetId, twin.pendingAlerts);
    }
    const pendingIds = [...pending.values()].flat().map((a) => a.alertId);
    expect(pendingIds.length).toBeGreaterThan(0);
    const redelivered = new Set(first.batchItemFailures.map((f) => f.itemIdentifier));
    const ownersOfPending = event.Records.filter((r) => pending.has(r.kinesis.partitionKey)).map((r) => r.kinesis.sequenceNumber);
    expect([...redelivered].sort()).toEqual(ownersOfPending.sort());

    const before = publishedAlerts().length;
    const second = await createHandler(deps(table))(event, lambdaContext());
    const delivered = publishedAlerts().slice(before).map((a) => a.alertId);
    expect(second.batchItemFailures).toEqual([]);
    expect(delivered.sort()).toEqual([...pendingIds].sort());
    const expected = reference(150);
    for (const a of fleet) {
      const twin = await store.get(a.assetId);
      expect(twin?.pendingAlerts).toBeUndefined();
      expect(logicalState(twin!)).toEqual(logicalState(expected.get(a.assetId)!));
    }

    await createHandler(deps(table))(event, lambdaContext());
    expect(publishedAlerts().length - before).toBe(delivered.length);
  });

  it('falls back to in-process scoring when the endpoint fails, and reports Timestream rejections', async () => {
    const sagemaker = mockClient(SageMakerRuntimeClient);
    sagemaker.on(InvokeEndpointCommand).rejects(Object.assign(new Error('model crashed'), { name: 'ModelError' }));
    const timestream = mockClient(TimestreamWriteClient);
    timestream
      .on(WriteRecordsCommand)
      .rejectsOnce(new RejectedRecordsException({ $metadata: {}, message: 'r', RejectedRecords: [{ RecordIndex: 0, Reason: 'duplicate' }] }))
      .resolves({});
    const fallbacks: string[] = [];
    const handler = createHandler(
      deps('twins-d', {
        scorer: new SageMakerScorer(new SageMakerRuntimeClient({ region: 'us-east-1' }), bundle, {
          endpoints: { 'centrifugal-pump/failure': 'f', 'centrifugal-pump/rul': 'r' },
          timeoutMs: 500,
          onFallback: (e) => fallbacks.push(e.errorName),
        }),
        telemetry: new TimestreamTelemetryStore(new TimestreamWriteClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }), {
          database: 'pdm',
          featuresTable: 'features',
          predictionsTable: 'predictions',
        }),
      }),
    );

    const res = await handler(cleanEvent(0, 10), lambdaContext());

    expect(res.batchItemFailures).toEqual([]);
    // Both pumps are scored in one call per predictor, so one fallback covers both.
    expect(fleet.filter((a) => a.modelId === 'centrifugal-pump').length).toBeGreaterThan(1);
    expect(sagemaker.commandCalls(InvokeEndpointCommand).length).toBeLessThanOrEqual(2);
    expect(fallbacks).toEqual(['ModelError']);
    const pumpTwin = await new DynamoTwinStore(db.doc, 'twins-d').get(fleet.find((a) => a.modelId === 'centrifugal-pump')!.assetId);
    expect(pumpTwin?.scores?.scoredBy).toBe('fallback');
    expect(handler.lastSummary!.timestreamRejected).toBe(1);
    sagemaker.restore();
    timestream.restore();
  });
});

describe('features handler drift', () => {
  it('publishes FeatureDriftPsi per asset model with only the AssetModel dimension, once the window has enough rows', async () => {
    await db.client.send(
      new CreateTableCommand(driftTableInput('drift-h')),
    );
    await db.createTable('twins-drift');
    // What each single metric would print (EMF), captured at its flush.
    const emitted: ReturnType<Metrics['serializeMetrics']>[] = [];
    const metrics = testMetrics();
    metrics.singleMetric = function () {
      const single = Metrics.prototype.singleMetric.call(this);
      single.publishStoredMetrics = function () {
        emitted.push(this.serializeMetrics());
        this.clearMetrics();
        return this;
      };
      return single;
    };
    // A 4 h window: the 45 ticks span it, so its hours are covered (a PSI needs 90 % of them).
    const drift = new DriftMonitor(new DynamoDriftCounterStore(db.doc, 'drift-h'), bundle, { minCount: 20, windowHours: 4, evaluateEveryMs: 0 });
    const handler = createHandler(deps('twins-drift', { metrics, drift }));

    await handler(cleanEvent(0, 5), lambdaContext('d-1'));
    const early = handler.lastSummary!.drift!;
    await handler(cleanEvent(5, 40), lambdaContext('d-2'));
    const later = handler.lastSummary!.drift!;

    // Only the pumps have a reference in this bundle; 2 pumps × 5 ticks is below the minimum of 20.
    expect(early.map((r) => [r.assetModel, r.psi])).toEqual([['centrifugal-pump', null]]);
    expect(later[0]!.rows).toBeGreaterThanOrEqual(20);
    expect(later[0]!.psi).toBeGreaterThanOrEqual(0);
    const drifts = emitted.filter((e) => e._aws.CloudWatchMetrics[0]!.Metrics.some((m) => m.Name === DRIFT_METRIC.name));
    expect(drifts).toHaveLength(1);
    expect(drifts[0]!._aws.CloudWatchMetrics[0]!.Namespace).toBe('pdm-test');
    expect(drifts[0]!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([[DRIFT_METRIC.dimension]]);
    expect(drifts[0]![DRIFT_METRIC.dimension]).toBe('centrifugal-pump');
    expect(drifts[0]![DRIFT_METRIC.name]).toBe(later[0]!.psi);
  });
});
