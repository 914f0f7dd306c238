import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { decodeRawRecord } from '../../../lambdas/adapters/records.ts';
import { RuleBridge, ruleRecord } from '../../../local/runtime/bridge.ts';

describe('ruleRecord', () => {
  it('writes the envelope of the IoT rule SQL: base64 payload, topic(), timestamp(), key topic(3)', () => {
    // Arrange: bytes that are not valid UTF-8 JSON, which encode(*, 'base64') keeps as they are.
    const payload = Buffer.from([0x7b, 0xff, 0x00, 0x22]);
    const topic = 'pdm/site-a/pump-001/telemetry';

    // Act
    const record = ruleRecord({ topic, payload, receivedAt: 1_767_225_600_123 });

    // Assert
    expect(record.partitionKey).toBe('pump-001');
    expect(JSON.parse(Buffer.from(record.data).toString('utf8'))).toEqual({
      payload: 'e/8AIg==',
      topic,
      receivedAt: 1_767_225_600_123,
    });
    const decoded = decodeRawRecord(record.data, 'seq-1');
    expect(Buffer.from(decoded.payload as Uint8Array).equals(payload)).toBe(true);
  });
});

describe('RuleBridge', () => {
  it('retries failed writes until every message is in the stream exactly once', async () => {
    // Arrange: the first call throws, the second fails one entry, later calls succeed.
    const written: string[] = [];
    let calls = 0;
    const fake = {
      send: async (cmd: { input: { Records: { PartitionKey: string; Data: Uint8Array }[] } }) => {
        calls += 1;
        if (calls === 1) throw Object.assign(new Error('boom'), { name: 'InternalFailure' });
        const records = cmd.input.Records;
        return {
          Records: records.map((r, i) => {
            if (calls === 2 && i === 1) return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' };
            written.push(JSON.parse(Buffer.from(r.Data).toString('utf8')).topic as string);
            return { SequenceNumber: String(written.length), ShardId: 'shardId-0' };
          }),
        };
      },
    } as unknown as KinesisClient;
    const bridge = new RuleBridge({ kinesis: fake, streamName: 'raw', retryDelayMs: 1 });
    const topics = [0, 1, 2].map((i) => `pdm/site-a/pump-00${i}/telemetry`);

    // Act
    for (const topic of topics) bridge.accept({ topic, payload: Buffer.from('{}'), clientId: 'x', receivedAt: 1 });
    await bridge.flush();

    // Assert
    expect([...written].sort()).toEqual([...topics].sort());
    expect(bridge.stats).toEqual({ written: 3, retries: 2 });
    expect(bridge.pending).toBe(0);
  });
});
