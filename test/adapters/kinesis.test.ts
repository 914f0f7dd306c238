import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkEntries, KinesisStreamWriter } from '../../lambdas/adapters/aws/kinesis.ts';
import type { StreamEntry } from '../../lambdas/adapters/ports.ts';
import { type Kinesis, startKinesalite } from './standins.ts';

const instant = { sleep: async () => undefined };
const entry = (i: number, bytes = 10): StreamEntry<number> => ({
  partitionKey: `asset-${i % 7}`,
  data: new Uint8Array(bytes).fill(65 + (i % 26)),
  tag: i,
});

let kinesis: Kinesis;
beforeAll(async () => {
  kinesis = await startKinesalite();
  await kinesis.createStream('clean', 2);
});
afterAll(() => kinesis.close());

describe('chunkEntries', () => {
  it('keeps calls within 500 entries and 5 MiB, in order', () => {
    const many = Array.from({ length: 1201 }, (_, i) => entry(i));
    expect(chunkEntries(many).map((c) => c.length)).toEqual([500, 500, 201]);
    const big = Array.from({ length: 12 }, (_, i) => entry(i, 1024 * 1024));
    const chunks = chunkEntries(big);
    expect(chunks.map((c) => c.length)).toEqual([4, 4, 4]);
    expect(chunks.flat().map((e) => e.tag)).toEqual(big.map((e) => e.tag));
  });
});

describe('KinesisStreamWriter', () => {
  it('writes every entry to kinesalite across several calls', async () => {
    const writer = new KinesisStreamWriter(kinesis.client, 'clean');
    const entries = Array.from({ length: 620 }, (_, i) => entry(i));

    const { failed } = await writer.put(entries);

    expect(failed).toEqual([]);
    const stored = await kinesis.readAll('clean');
    expect(stored).toHaveLength(620);
    const perKey = stored.filter((r) => r.partitionKey === 'asset-3').map((r) => r.data[0]);
    const expected = entries.filter((e) => e.partitionKey === 'asset-3').map((e) => e.data[0]);
    expect(perKey).toEqual(expected);
  });

  it('retries only the failed entries of a partial failure', async () => {
    const mock = mockClient(KinesisClient);
    const sent: number[] = [];
    let call = 0;
    mock.on(PutRecordsCommand).callsFake((input: { Records: { Data: Uint8Array }[] }) => {
      call++;
      sent.push(input.Records.length);
      return {
        FailedRecordCount: call === 1 ? 2 : 0,
        Records: input.Records.map((_, i) =>
          call === 1 && (i === 1 || i === 3)
            ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' }
            : { SequenceNumber: '1', ShardId: 's' },
        ),
      };
    });
    const writer = new KinesisStreamWriter(new KinesisClient({ region: 'us-east-1' }), 'clean', instant);

    const { failed } = await writer.put([0, 1, 2, 3, 4].map((i) => entry(i)));

    expect(failed).toEqual([]);
    expect(sent).toEqual([5, 2]);
    mock.restore();
  });

  it('reports entries that still fail after the bounded retries', async () => {
    const mock = mockClient(KinesisClient);
    mock.on(PutRecordsCommand).callsFake((input: { Records: unknown[] }) => ({
      FailedRecordCount: 1,
      Records: input.Records.map((_, i) =>
        i === 0 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'boom' } : { SequenceNumber: '1', ShardId: 's' },
      ),
    }));
    const writer = new KinesisStreamWriter(new KinesisClient({ region: 'us-east-1' }), 'clean', { ...instant, attempts: 3 });

    const { failed } = await writer.put([entry(0), entry(1)]);

    expect(failed.map((f) => [f.entry.tag, f.errorCode])).toEqual([[0, 'InternalFailure']]);
    expect(mock.commandCalls(PutRecordsCommand)).toHaveLength(3);
    mock.restore();
  });
});
