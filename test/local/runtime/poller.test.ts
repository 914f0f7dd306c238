import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FailedRecord, KinesisPoller } from '../../../local/runtime/poller.ts';
import { type Kinesis, startKinesalite } from '../../adapters/standins.ts';

let k: Kinesis;
beforeAll(async () => {
  k = await startKinesalite();
});
afterAll(async () => {
  await k.close();
});

async function putNumbered(stream: string, n: number): Promise<void> {
  await k.createStream(stream, 1);
  await k.client.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: Array.from({ length: n }, (_, i) => ({ PartitionKey: 'a', Data: Buffer.from(String(i)) })),
    }),
  );
}

const valueOf = (r: KinesisStreamEvent['Records'][number]) => Number(Buffer.from(r.kinesis.data, 'base64').toString());

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
}

describe('KinesisPoller', () => {
  it('retries from the first failed record of a partial batch and checkpoints the last one', async () => {
    // Arrange: record 4 fails on its first two deliveries.
    await putNumbered('partial', 10);
    const deliveries: number[][] = [];
    let failuresLeft = 2;
    const poller = new KinesisPoller({
      kinesis: k.client,
      streamName: 'partial',
      functionName: 'f',
      batchSize: 10,
      retryDelayMs: 1,
      handler: async (event) => {
        deliveries.push(event.Records.map(valueOf));
        const four = event.Records.find((r) => valueOf(r) === 4);
        if (four && failuresLeft > 0) {
          failuresLeft -= 1;
          return { batchItemFailures: [{ itemIdentifier: four.kinesis.sequenceNumber }] };
        }
        return { batchItemFailures: [] };
      },
    });

    // Act
    await poller.start();
    await until(() => deliveries.flat().filter((v) => v === 9).length === 3 && poller.isIdle);
    await poller.stop();

    // Assert: Lambda's contract: records before the failure are not delivered again.
    expect(deliveries).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [4, 5, 6, 7, 8, 9],
      [4, 5, 6, 7, 8, 9],
    ]);
    expect(poller.stats.retriedBatches).toBe(2);
    expect(Object.values(poller.checkpoints)).toHaveLength(1);
    const lastSeq = (await k.readAll('partial')).at(-1)!.sequenceNumber;
    expect(Object.values(poller.checkpoints)[0]).toBe(lastSeq);
  });

  it('sends a record that keeps failing to the on-failure log after bounded retries and moves on', async () => {
    // Arrange
    await putNumbered('poison', 5);
    const failed: FailedRecord[] = [];
    const succeeded = new Set<number>();
    const poller = new KinesisPoller({
      kinesis: k.client,
      streamName: 'poison',
      functionName: 'f',
      batchSize: 5,
      maxRetries: 2,
      retryDelayMs: 1,
      onFailure: (r) => failed.push(r),
      handler: async (event) => {
        const poison = event.Records.find((r) => valueOf(r) === 2);
        for (const r of event.Records) if (valueOf(r) < 2 || !poison) succeeded.add(valueOf(r));
        return { batchItemFailures: poison ? [{ itemIdentifier: poison.kinesis.sequenceNumber }] : [] };
      },
    });

    // Act
    await poller.start();
    await until(() => succeeded.has(4) && poller.isIdle);
    await poller.stop();

    // Assert
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ stream: 'poison', partitionKey: 'a', attempts: 3 });
    expect([...succeeded].sort()).toEqual([0, 1, 3, 4]);
    expect(poller.stats.onFailure).toBe(1);
  });

  it('resumes after its checkpoint when restarted', async () => {
    // Arrange: a first poller processes everything.
    await putNumbered('resume', 4);
    const first = new KinesisPoller({ kinesis: k.client, streamName: 'resume', functionName: 'f', handler: async () => ({ batchItemFailures: [] }) });
    await first.start();
    await until(() => first.stats.records === 4 && first.isIdle);
    await first.stop();
    await k.client.send(new PutRecordsCommand({ StreamName: 'resume', Records: [{ PartitionKey: 'a', Data: Buffer.from('4') }] }));
    const seen: number[] = [];

    // Act
    const second = new KinesisPoller({
      kinesis: k.client,
      streamName: 'resume',
      functionName: 'f',
      checkpoints: first.checkpoints,
      handler: async (event) => {
        seen.push(...event.Records.map(valueOf));
        return { batchItemFailures: [] };
      },
    });
    await second.start();
    await until(() => seen.length > 0 && second.isIdle);
    await second.stop();

    // Assert
    expect(seen).toEqual([4]);
  });
});
