import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoAssetRegistry } from '../../lambdas/adapters/aws/dynamodb.ts';
import { KinesisStreamWriter } from '../../lambdas/adapters/aws/kinesis.ts';
import { S3QuarantineSink } from '../../lambdas/adapters/aws/s3.ts';
import type { CleanStreamWriter, TelemetryStore } from '../../lambdas/adapters/ports.ts';
import { NoopTelemetryStore } from '../../lambdas/adapters/ports.ts';
import { decodeCleanRecord, encodeRawRecord } from '../../lambdas/adapters/records.ts';
import { type CleanDeps, createHandler } from '../../lambdas/clean/app.ts';
import type { QuarantineRecord } from '../../lambdas/core/cleaning/reasons.ts';
import type { CleanSample } from '../../lambdas/core/types.ts';
import { type Dynamo, type Kinesis, kinesisEvent, lambdaContext, startDynalite, startKinesalite } from '../adapters/standins.ts';
import { quietLogger, registerFleet, simulate, testMetrics } from './fixtures.ts';

let db: Dynamo;
let kinesis: Kinesis;
const s3 = mockClient(S3Client);
const { fleet, ticks } = simulate({ assets: 6, seed: 11, ticks: 12, faultRate: 0.3 });

beforeAll(async () => {
  [db, kinesis] = await Promise.all([startDynalite(), startKinesalite()]);
  await db.createTable('assets');
  await registerFleet(db.doc, 'assets', fleet);
});
afterAll(async () => {
  await Promise.all([db.close(), kinesis.close()]);
  s3.restore();
});

function deps(stream: string, overrides: Partial<CleanDeps> = {}): CleanDeps {
  return {
    registry: new DynamoAssetRegistry(db.doc, 'assets'),
    stream: new KinesisStreamWriter(kinesis.client, stream),
    quarantine: new S3QuarantineSink(new S3Client({ region: 'us-east-1' }), 'quarantine-bucket'),
    telemetry: new NoopTelemetryStore(),
    logger: quietLogger(),
    metrics: testMetrics(),
    ...overrides,
  };
}

const storedQuarantine = (): QuarantineRecord[] =>
  s3
    .commandCalls(PutObjectCommand)
    .flatMap((c) => String(c.args[0].input.Body).trim().split('\n'))
    .map((l) => JSON.parse(l) as QuarantineRecord);

describe('clean handler', () => {
  it('sends good samples to the clean stream and quarantines bad input with reasons, counts adding up', async () => {
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    await kinesis.createStream('clean-1', 2);
    const records = [
      ...ticks.flat(),
      { partitionKey: 'x', data: new TextEncoder().encode('not the envelope') },
      { partitionKey: 'ghost', data: encodeRawRecord('pdm/site-a/ghost/telemetry', '{"schema":"pdm.telemetry.v1","assetId":"ghost","ts":1,"seq":1,"readings":{}}', Date.UTC(2026, 0, 1)) },
    ];
    const event = kinesisEvent(records);
    const metricSpy = vi.spyOn(Metrics.prototype, 'addMetric');
    const handler = createHandler(deps('clean-1'));

    const response = await handler(event, lambdaContext('req-a'));

    expect(response.batchItemFailures).toEqual([]);
    const summary = handler.lastSummary!;
    const { messages, samples } = summary.counts;
    expect(messages.received).toBe(records.length);
    expect(messages.accepted + messages.quarantined).toBe(messages.received);
    expect(samples.clean + samples.quarantined).toBe(samples.received);
    expect(messages.quarantined).toBeGreaterThan(2); // the fault rate damaged some messages

    const items = (await kinesis.readAll('clean-1')).flatMap((r) => decodeCleanRecord(r.data));
    const cleanSamples = items.filter((i) => i.kind === 'sample').map((i) => (i as { sample: CleanSample }).sample);
    expect(cleanSamples).toHaveLength(samples.clean);
    expect(new Set(cleanSamples.map((s) => s.assetId))).toEqual(new Set(fleet.map((a) => a.assetId)));

    const quarantined = storedQuarantine();
    expect(quarantined.length).toBe(Object.values(summary.byReason).reduce((a, b) => a + b, 0));
    const reasons = new Set(quarantined.map((q) => q.reason));
    expect(reasons).toContain('invalid_envelope');
    expect(reasons).toContain('unknown_asset');
    const envelope = quarantined.find((q) => q.reason === 'invalid_envelope' && q.assetId === 'x')!;
    expect(Buffer.from(envelope.payload, 'base64').toString()).toBe('not the envelope');
    expect(envelope.messageId).toBe(event.Records.at(-2)!.kinesis.sequenceNumber);
    for (const key of s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key!)) {
      expect(key).toMatch(/^quarantine\/[a-z_]+\/\d{4}\/\d{2}\/\d{2}\/req-a-\d+\.jsonl$/);
    }
    expect(metricSpy).toHaveBeenCalledWith('MessagesReceived', 'Count', records.length);
    metricSpy.mockRestore();
  });

  it('sends clean device events to the clean stream as event items and counts them per event', async () => {
    // Arrange
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    await kinesis.createStream('clean-events', 1);
    const pump = fleet.find((a) => a.modelId === 'centrifugal-pump')!;
    const at = Date.UTC(2026, 0, 1, 1);
    const topic = `pdm/${pump.siteId}/${pump.assetId}/events`;
    const body = {
      schema: 'pdm.event.v1',
      assetId: pump.assetId,
      events: [
        { ts: at, seq: 1, code: 'bearing_overtemp', severity: 'warning' },
        { ts: at, seq: 2, code: 'E-77', severity: 'info', component: 'gearbox' },
      ],
    };
    const event = kinesisEvent([{ partitionKey: pump.assetId, data: encodeRawRecord(topic, JSON.stringify(body), at + 1000) }]);
    const handler = createHandler(deps('clean-events'));
    // Act
    const response = await handler(event, lambdaContext('req-e'));
    // Assert
    expect(response.batchItemFailures).toEqual([]);
    expect(handler.lastSummary!.counts.events).toEqual({ received: 2, clean: 1, quarantined: 1 });
    expect(handler.lastSummary!.counts.messages).toEqual({ received: 1, accepted: 1, quarantined: 0 });
    const items = (await kinesis.readAll('clean-events')).flatMap((r) => decodeCleanRecord(r.data));
    expect(items).toEqual([
      {
        kind: 'event',
        event: expect.objectContaining({ assetId: pump.assetId, seq: 1, code: 'bearing_overtemp', component: 'bearing', ts: at }),
      },
    ]);
    expect(storedQuarantine().map((q) => [q.level, q.reason])).toEqual([['event', 'unknown_component']]);
  });

  it('lists exactly the records whose clean stream entries still failed', async () => {
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    const victim = fleet[1]!.assetId;
    const inner = new KinesisStreamWriter(kinesis.client, 'clean-1');
    const flaky: CleanStreamWriter = {
      async put(entries) {
        const failed = entries.filter((e) => e.partitionKey === victim).map((entry) => ({ entry, errorCode: 'InternalFailure', errorMessage: 'x' }));
        await inner.put(entries.filter((e) => e.partitionKey !== victim));
        return { failed };
      },
    };
    const records = ticks.slice(0, 3).flat();
    const event = kinesisEvent(records);

    const response = await createHandler(deps('clean-1', { stream: flaky }))(event, lambdaContext());

    // Failing: the victim's records that produced clean items, i.e. not quarantined as a whole.
    const dropped = new Set(storedQuarantine().filter((q) => q.level !== 'reading').map((q) => q.messageId));
    const expected = event.Records.filter((r, i) => records[i]!.partitionKey === victim && !dropped.has(r.kinesis.sequenceNumber))
      .map((r) => r.kinesis.sequenceNumber);
    expect(expected.length).toBeGreaterThan(0);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(expected.sort());
  });

  it('fails records instead of quarantining them as unknown when the registry is unreachable', async () => {
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    const event = kinesisEvent(ticks[0]!);
    const handler = createHandler(
      deps('clean-1', { registry: { getMany: () => Promise.reject(new Error('throttled')) } }),
    );

    const response = await handler(event, lambdaContext());

    expect(response.batchItemFailures).toHaveLength(event.Records.length);
    expect(storedQuarantine().filter((q) => q.reason === 'unknown_asset')).toEqual([]);
  });

  it('fails the records of samples whose telemetry write failed, and only reports rejected ones', async () => {
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    const rejecting: TelemetryStore = {
      ...new NoopTelemetryStore(),
      writeTelemetry: async (samples) => ({ written: samples.length - 1, rejected: [{ index: 0, assetId: samples[0]!.assetId, seq: samples[0]!.seq, reason: 'duplicate' }] }),
      writeFeatures: async () => ({ written: 0, rejected: [] }),
      writePredictions: async () => ({ written: 0, rejected: [] }),
    };
    const handler = createHandler(deps('clean-1', { telemetry: rejecting }));
    const ok = await handler(kinesisEvent(ticks[4]!), lambdaContext());
    expect(ok.batchItemFailures).toEqual([]);
    expect(handler.lastSummary!.telemetryRejected).toBe(1);

    const failing = createHandler(deps('clean-1', { telemetry: { ...rejecting, writeTelemetry: () => Promise.reject(new Error('down')) } }));
    const event = kinesisEvent(ticks[5]!);
    const res = await failing(event, lambdaContext());
    expect(res.batchItemFailures.length).toBe(failing.lastSummary!.counts.messages.accepted);
  });
});
