import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBridgeAlertPublisher } from '../../lambdas/adapters/aws/eventbridge.ts';
import { S3QuarantineSink } from '../../lambdas/adapters/aws/s3.ts';
import type { TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';
import type { QuarantineRecord } from '../../lambdas/core/cleaning/reasons.ts';

const s3 = mockClient(S3Client);
const events = mockClient(EventBridgeClient);
afterEach(() => {
  s3.reset();
  events.reset();
});
const instant = { sleep: async () => undefined };

const record = (reason: QuarantineRecord['reason'], messageId: string): QuarantineRecord => ({
  reason,
  level: reason === 'invalid_json' ? 'message' : 'reading',
  detail: 'd',
  messageId,
  topic: 'pdm/s/a/telemetry',
  receivedAt: 0,
  payload: '{"x":1}',
});

describe('S3QuarantineSink', () => {
  it('writes one JSONL object per reason under the dated key, unique across calls', async () => {
    s3.on(PutObjectCommand).resolves({});
    const sink = new S3QuarantineSink(new S3Client({ region: 'us-east-1' }), 'bucket', { now: () => Date.UTC(2026, 2, 7, 12) });

    const first = await sink.put([record('invalid_json', 'm1'), record('out_of_range', 'm2'), record('invalid_json', 'm3')], 'req');
    const second = await sink.put([record('invalid_json', 'm4')], 'req');

    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual([
      'quarantine/invalid_json/2026/03/07/req-0.jsonl',
      'quarantine/out_of_range/2026/03/07/req-1.jsonl',
      'quarantine/invalid_json/2026/03/07/req-2.jsonl',
    ]);
    const lines = String(puts[0]!.Body).trim().split('\n').map((l) => JSON.parse(l) as QuarantineRecord);
    expect(lines.map((l) => l.messageId)).toEqual(['m1', 'm3']);
    expect(puts[0]!.Bucket).toBe('bucket');
    expect(first.objects.map((o) => o.count)).toEqual([2, 1]);
    expect(second.failed).toEqual([]);
  });

  it('reports the messages of an object that could not be written', async () => {
    s3.on(PutObjectCommand).callsFake((input: { Key: string }) => {
      if (input.Key.includes('out_of_range')) throw new Error('AccessDenied');
      return {};
    });
    const sink = new S3QuarantineSink(new S3Client({ region: 'us-east-1' }), 'bucket');

    const report = await sink.put([record('invalid_json', 'm1'), record('out_of_range', 'm2'), record('out_of_range', 'm2')], 'r');

    expect(report.failed).toEqual([{ reason: 'out_of_range', messageIds: ['m2'], error: 'AccessDenied' }]);
    expect(report.objects.map((o) => o.reason)).toEqual(['invalid_json']);
  });
});

const alert = (i: number): TwinHealthChangedDetail => ({
  version: '1',
  alertId: `a-${i}`,
  assetId: 'pump-1',
  siteId: 's',
  assetModel: 'centrifugal-pump',
  scope: 'asset',
  from: 'NORMAL',
  to: 'WARNING',
  severity: 'warning',
  at: '2026-01-01T00:00:00.000Z',
  seq: i,
  scores: { risk: 0.7, anomaly: 0.7, failureProbability: null, rul: null, rulUnit: 'hours' },
  topContributors: [],
  estimatedCostAvoidedUsd: 0,
});

describe('EventBridgeAlertPublisher', () => {
  it('publishes in calls of at most 10 entries with the alert envelope', async () => {
    events.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'e' })) }));
    const publisher = new EventBridgeAlertPublisher(new EventBridgeClient({ region: 'us-east-1' }), 'pdm-bus');

    const { failed } = await publisher.publish(Array.from({ length: 23 }, (_, i) => alert(i)));

    expect(failed).toEqual([]);
    const calls = events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
    expect(calls.map((c) => c.length)).toEqual([10, 10, 3]);
    expect(calls[0]![0]).toEqual({
      Source: 'pdm.twin',
      DetailType: 'TwinHealthChanged',
      EventBusName: 'pdm-bus',
      Resources: [],
      Detail: JSON.stringify(alert(0)),
    });
  });

  it('retries failed entries and reports those that keep failing', async () => {
    events.on(PutEventsCommand).callsFake((input: { Entries: { Detail: string }[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((e) =>
        (JSON.parse(e.Detail) as { seq: number }).seq === 2 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'x' } : { EventId: 'e' },
      ),
    }));
    const publisher = new EventBridgeAlertPublisher(new EventBridgeClient({ region: 'us-east-1' }), 'bus', { ...instant, attempts: 3 });

    const { failed } = await publisher.publish([alert(1), alert(2), alert(3)]);

    expect(failed.map((f) => f.alert.alertId)).toEqual(['a-2']);
    expect(events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!.length)).toEqual([3, 1, 1]);
  });
});
