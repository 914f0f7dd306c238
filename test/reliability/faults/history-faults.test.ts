/**
 * Fault suite for the history writes: the REAL features handler over dynalite, its history going
 * through the REAL Firehose sink to a Firehose fake that refuses a share of the records of each
 * PutRecordBatch (the partial failure Firehose answers under load). Lambda's retry is played by
 * redelivering a batch while it reports failures. Nothing may be lost and nothing hidden.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { FirehoseClient, PutRecordBatchCommand, type PutRecordBatchCommandInput } from '@aws-sdk/client-firehose';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetLookup } from '../../../devices/fleet.ts';
import { DynamoAssetRegistry, DynamoTwinStore } from '../../../lambdas/adapters/aws/dynamodb.ts';
import { EventBridgeAlertPublisher } from '../../../lambdas/adapters/aws/eventbridge.ts';
import { FirehoseHistorySink } from '../../../lambdas/adapters/aws/history-firehose.ts';
import { S3QuarantineSink } from '../../../lambdas/adapters/aws/s3.ts';
import { HistoryTelemetryStore } from '../../../lambdas/adapters/history.ts';
import { InProcessScorer, readBundleDir } from '../../../lambdas/adapters/model.ts';
import { encodeCleanItem, packItems } from '../../../lambdas/adapters/records.ts';
import { DEFAULT_BASELINES } from '../../../lambdas/core/anomaly/index.ts';
import { cleanMessage } from '../../../lambdas/core/cleaning/clean.ts';
import { createBundleScorer } from '../../../lambdas/core/model/scorer.ts';
import { processMessages } from '../../../lambdas/core/pipeline.ts';
import { logicalState, type TwinInput } from '../../../lambdas/core/twin/twin.ts';
import { createHandler } from '../../../lambdas/features/app.ts';
import { type Dynamo, kinesisEvent, lambdaContext, startDynalite } from '../../adapters/standins.ts';
import { quietLogger, registerFleet, simulate, testMetrics } from '../../lambdas/fixtures.ts';
import { seeded } from './pipeline.ts';

const shipped = readBundleDir('layers/model');
const bundle = { manifest: shipped.manifest, models: new Map([['centrifugal-pump', shipped.models.get('centrifugal-pump')!]]) };
const { fleet, ticks } = simulate({ assets: 4, seed: 9, ticks: 180, models: ['centrifugal-pump'], failingShare: 0.5 });
const lookup = fleetLookup(fleet);
const STREAMS = { features: 'f', predictions: 'p', transitions: 't', alerts: 'a', maintenance: 'm' } as const;

const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
const firehose = mockClient(FirehoseClient);
let db: Dynamo;

beforeAll(async () => {
  db = await startDynalite();
  await Promise.all(['assets', 'twins-ok', 'twins-down'].map((t) => db.createTable(t)));
  await registerFleet(db.doc, 'assets', fleet);
  s3.on(PutObjectCommand).resolves({});
  events.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'e' })) }));
});
afterAll(async () => {
  await db.close();
  s3.restore();
  events.restore();
  firehose.restore();
});

function cleanEvent(from: number, to: number): KinesisStreamEvent {
  const perAsset = new Map<string, { text: string; source: string }[]>();
  ticks.slice(from, to).forEach((tick, t) =>
    tick.forEach((r, i) => {
      const res = cleanMessage({ topic: r.topic, payload: r.payload, receivedAt: r.receivedAt, messageId: `${from + t}-${i}` }, { lookupAsset: lookup });
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
  return kinesisEvent([...perAsset].flatMap(([id, lines]) => packItems(lines, 4096).map((p) => ({ partitionKey: id, data: p.data }))));
}

/** Firehose that refuses each record with probability `rate`, keeping the accepted ones per stream. */
function fakeFirehose(rate: number, seed: number) {
  const rnd = seeded(seed);
  const accepted = new Map<string, Record<string, unknown>[]>();
  let refused = 0;
  firehose.reset();
  firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => {
    const responses = input.Records!.map((r) => {
      if (rnd() < rate) {
        refused += 1;
        return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
      }
      const list = accepted.get(input.DeliveryStreamName!) ?? [];
      list.push(JSON.parse(new TextDecoder().decode(r.Data)) as Record<string, unknown>);
      accepted.set(input.DeliveryStreamName!, list);
      return { RecordId: 'r' };
    });
    return { FailedPutCount: responses.filter((r) => 'ErrorCode' in r).length, RequestResponses: responses };
  });
  return { accepted, refused: () => refused };
}

function handlerWith(table: string, sink: FirehoseHistorySink) {
  const history = new HistoryTelemetryStore(sink);
  return createHandler({
    registry: new DynamoAssetRegistry(db.doc, 'assets'),
    twins: new DynamoTwinStore(db.doc, table),
    scorer: new InProcessScorer(bundle),
    telemetry: history,
    history,
    quarantine: new S3QuarantineSink(new S3Client({ region: 'us-east-1' }), 'bucket'),
    alerts: new EventBridgeAlertPublisher(new EventBridgeClient({ region: 'us-east-1' }), 'bus'),
    logger: quietLogger(),
    metrics: testMetrics(),
  });
}

describe('history writes under Firehose partial failures', () => {
  it('loses no feature row, prediction, transition or maintenance record, and the twins equal a clean run', async () => {
    // Arrange: 20% of records refused per call; four attempts per call, so a few rows outlast the sink's retries.
    const fake = fakeFirehose(0.2, 7);
    const sink = new FirehoseHistorySink(new FirehoseClient({ region: 'us-east-1' }), STREAMS, { attempts: 4, sleep: async () => {} });
    const handler = handlerWith('twins-ok', sink);
    let redeliveries = 0;

    // Act: batches of 30 ticks, each redelivered while it reports failures (Lambda's retry).
    for (let t = 0; t < 180; t += 30) {
      const event = cleanEvent(t, t + 30);
      for (let attempt = 0; ; attempt++) {
        const res = await handler(event, lambdaContext(`req-${t}-${attempt}`));
        if (res.batchItemFailures.length === 0) break;
        redeliveries += 1;
        expect(attempt).toBeLessThan(30);
      }
    }

    // Assert: the core pipeline over the same messages in one go is the reference.
    const messages = ticks.flatMap((tick, t) => tick.map((r, i) => ({ topic: r.topic, payload: r.payload, receivedAt: r.receivedAt, messageId: `${t}-${i}` })));
    const ref = processMessages(messages, new Map(), { lookupAsset: lookup, baselineFor: (m) => DEFAULT_BASELINES[m.id]!, scorer: createBundleScorer(bundle) });
    const store = new DynamoTwinStore(db.doc, 'twins-ok');
    for (const a of fleet) expect(logicalState((await store.get(a.assetId))!)).toEqual(logicalState(ref.twins.get(a.assetId)!));

    const keys = (stream: string) => new Set((fake.accepted.get(stream) ?? []).map((r) => `${String(r.asset_id)}:${String(r.seq)}`));
    const expectedRows = [...ref.twins.values()].reduce((n, tw) => n + tw.samples, 0);
    expect(keys('f').size).toBe(expectedRows);
    expect(keys('p').size).toBe(expectedRows);
    const transitions = new Set((fake.accepted.get('t') ?? []).map((r) => JSON.stringify([r.asset_id, r.seq, r.scope, r.component, r.from_state, r.to_state])));
    const refTransitions = [...ref.twins.values()].flatMap((tw) => tw.history.map((h) => JSON.stringify([tw.assetId, h.seq, h.scope, h.component ?? null, h.from, h.to])));
    for (const t of refTransitions) expect(transitions).toContain(t);
    const maintenance = ticks.flat().filter((r) => r.topic.endsWith('/maintenance')).map((r) => r.partitionKey).sort();
    expect(maintenance.length).toBeGreaterThan(0);
    expect([...new Set((fake.accepted.get('m') ?? []).map((r) => `${String(r.asset_id)}:${String(r.ts)}`))].map((k) => k.split(':')[0]).sort()).toEqual(maintenance);

    // Faults happened, were retried inside the sink, and what outlasted it was counted and redelivered.
    expect(fake.refused()).toBeGreaterThan(0);
    expect(sink.stats.retriedRecords).toBeGreaterThan(0);
    expect(sink.stats.failedRecords).toBeGreaterThan(0);
    expect(redeliveries).toBeGreaterThan(0);
  }, 120_000);

  it('fails every record and writes no twin while Firehose refuses everything', async () => {
    fakeFirehose(1, 3);
    const sink = new FirehoseHistorySink(new FirehoseClient({ region: 'us-east-1' }), STREAMS, { attempts: 2, sleep: async () => {} });
    const handler = handlerWith('twins-down', sink);
    const event = cleanEvent(0, 10);

    const res = await handler(event, lambdaContext('down'));

    expect(res.batchItemFailures).toHaveLength(event.Records.length);
    expect(handler.lastSummary?.failedAssets.length).toBe(fleet.length);
    expect(sink.stats.failedRecords).toBeGreaterThan(0);
    for (const a of fleet) expect(await new DynamoTwinStore(db.doc, 'twins-down').get(a.assetId)).toBeUndefined();
  }, 60_000);
});
