import { FirehoseClient, PutRecordBatchCommand, type PutRecordBatchCommandInput } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { FirehoseHistorySink, HistoryRowTooLargeError } from '../../lambdas/adapters/aws/history-firehose.ts';
import { HistoryDeliveryError } from '../../lambdas/adapters/history.ts';
import type { HistoryRow } from '../../lambdas/core/history/tables.ts';

const firehose = mockClient(FirehoseClient);
const instant = { sleep: async () => {}, random: () => 0 };
const rows = (n: number, pad = 0): HistoryRow[] =>
  Array.from({ length: n }, (_, i) => ({ asset_id: `a${i}`, ts: i, code: 'E1', message: 'x'.repeat(pad) }));
const sent = () =>
  firehose.commandCalls(PutRecordBatchCommand).map((c) => c.args[0].input as PutRecordBatchCommandInput);
const decode = (input: PutRecordBatchCommandInput) => input.Records!.map((r) => JSON.parse(new TextDecoder().decode(r.Data)) as HistoryRow);

afterEach(() => firehose.reset());

describe('FirehoseHistorySink', () => {
  it('sends each row as one JSON record to the stream of its table, in calls of at most 500', async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [] });
    const sink = new FirehoseHistorySink(new FirehoseClient({ region: 'us-east-1' }), { events: 'pdm-dev-history-events' }, instant);

    const res = await sink.put('events', rows(1201));

    expect(res.written).toBe(1201);
    expect(sent().map((i) => [i.DeliveryStreamName, i.Records!.length])).toEqual([
      ['pdm-dev-history-events', 500], ['pdm-dev-history-events', 500], ['pdm-dev-history-events', 201],
    ]);
    expect(decode(sent()[0]!)[3]).toEqual({ asset_id: 'a3', ts: 3, code: 'E1', message: '' });
  });

  it('splits calls at 4 MiB', async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    const sink = new FirehoseHistorySink(new FirehoseClient({ region: 'us-east-1' }), { events: 's' }, instant);
    await sink.put('events', rows(10, 900 * 1024));
    for (const input of sent()) {
      const bytes = input.Records!.reduce((n, r) => n + r.Data!.byteLength, 0);
      expect(bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    }
    expect(sent().reduce((n, i) => n + i.Records!.length, 0)).toBe(10);
  });

  it('re-sends only the records a partial failure names, and counts them', async () => {
    // Arrange: the first call fails records 1 and 3, the second succeeds.
    firehose
      .on(PutRecordBatchCommand)
      .resolvesOnce({
        FailedPutCount: 2,
        RequestResponses: [{ RecordId: 'r0' }, { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' }, { RecordId: 'r2' }, { ErrorCode: 'InternalFailure' }],
      })
      .resolves({ FailedPutCount: 0 });
    const sink = new FirehoseHistorySink(new FirehoseClient({ region: 'us-east-1' }), { events: 's' }, instant);

    // Act
    const res = await sink.put('events', rows(4));

    // Assert
    expect(res.written).toBe(4);
    expect(sent()).toHaveLength(2);
    expect(decode(sent()[1]!).map((r) => r.asset_id)).toEqual(['a1', 'a3']);
    expect(sink.stats).toEqual({ retriedRecords: 2, failedRecords: 0 });
  });

  it('throws a HistoryDeliveryError with the count and error codes when records keep failing', async () => {
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => ({
      FailedPutCount: 1,
      RequestResponses: input.Records!.map((_r, i) => (i === 0 ? { ErrorCode: 'ServiceUnavailableException' } : { RecordId: 'ok' })),
    }));
    const sink = new FirehoseHistorySink(new FirehoseClient({ region: 'us-east-1' }), { events: 's' }, { ...instant, attempts: 3 });

    const err = await sink.put('events', rows(3)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(HistoryDeliveryError);
    expect(err).toMatchObject({ table: 'events', failed: 1, total: 3, errorCodes: { ServiceUnavailableException: 3 } });
    expect(sent()).toHaveLength(3);
    expect(sink.stats.failedRecords).toBe(1);
  });

  it('retries a throttled call as a whole and rethrows an error that is not transient', async () => {
    const throttled = Object.assign(new Error('rate'), { name: 'ThrottlingException' });
    firehose.on(PutRecordBatchCommand).rejectsOnce(throttled).resolves({ FailedPutCount: 0 });
    const sink = new FirehoseHistorySink(new FirehoseClient({ region: 'us-east-1' }), { events: 's' }, instant);
    await expect(sink.put('events', rows(2))).resolves.toEqual({ written: 2 });
    expect(sent()).toHaveLength(2);

    firehose.reset();
    firehose.on(PutRecordBatchCommand).rejects(Object.assign(new Error('no such stream'), { name: 'ResourceNotFoundException' }));
    await expect(sink.put('events', rows(2))).rejects.toThrow('no such stream');
  });

  it('keeps nothing for a table without a stream, and refuses a row over the record limit', async () => {
    const sink = new FirehoseHistorySink(new FirehoseClient({ region: 'us-east-1' }), { events: 's' }, instant);
    await expect(sink.put('alerts', rows(2))).resolves.toEqual({ written: 0 });
    expect(sent()).toHaveLength(0);
    await expect(sink.put('events', rows(1, 1_100_000))).rejects.toThrow(HistoryRowTooLargeError);
  });
});
