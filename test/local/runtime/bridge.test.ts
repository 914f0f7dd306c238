import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { decodeRawRecord } from '../../../lambdas/adapters/records.ts';
import { RuleActionError } from '../../../local/runtime/broker.ts';
import { MAX_KINESIS_RECORD_BYTES, RuleBridge, ruleRecord } from '../../../local/runtime/bridge.ts';

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
    const acks = topics.map((topic) => bridge.accept({ topic, payload: Buffer.from('{}'), clientId: 'x', receivedAt: 1 }));
    await bridge.flush();

    // Assert: every accept resolved once its record was written.
    await Promise.all(acks);
    expect([...written].sort()).toEqual([...topics].sort());
    expect(bridge.stats).toEqual({ written: 3, retries: 2, refused: 0 });
    expect(bridge.pending).toBe(0);
  });
});

describe('RuleBridge limits', () => {
  const message = (payload: Buffer) => ({ topic: 'pdm/site-a/pump-001/telemetry', payload, clientId: 'pump-001', receivedAt: 1 });

  it('refuses at once a message whose raw record Kinesis cannot hold, without a call', async () => {
    // Arrange: 790,000 bytes become ~1,053,000 after base64: over the 1 MiB record.
    let calls = 0;
    const fake = { send: async () => ((calls += 1), { Records: [] }) } as unknown as KinesisClient;
    const bridge = new RuleBridge({ kinesis: fake, streamName: 'raw', retryDelayMs: 1 });

    // Act
    const outcome = bridge.accept(message(Buffer.alloc(790_000, 0x61)));

    // Assert
    await expect(outcome).rejects.toMatchObject({ name: 'RuleActionError', reason: 'record_too_large' });
    expect(ruleRecord(message(Buffer.alloc(790_000, 0x61))).data.length).toBeGreaterThan(MAX_KINESIS_RECORD_BYTES);
    expect(calls).toBe(0);
    expect(bridge.stats.refused).toBe(1);
  });

  it('gives a record up after its attempts, and the messages behind it still go through', async () => {
    // Arrange: Kinesis refuses every entry whose payload is "poison".
    const written: string[] = [];
    const fake = {
      send: async (cmd: { input: { Records: { Data: Uint8Array }[] } }) => ({
        Records: cmd.input.Records.map((r) => {
          const payload = Buffer.from(JSON.parse(Buffer.from(r.Data).toString('utf8')).payload as string, 'base64').toString();
          if (payload === 'poison') return { ErrorCode: 'InternalFailure', ErrorMessage: 'no' };
          written.push(payload);
          return { SequenceNumber: String(written.length), ShardId: 'shardId-0' };
        }),
      }),
    } as unknown as KinesisClient;
    const bridge = new RuleBridge({ kinesis: fake, streamName: 'raw', retryDelayMs: 1, maxAttempts: 3 });

    // Act
    const poison = bridge.accept(message(Buffer.from('poison')));
    const good = bridge.accept(message(Buffer.from('good')));
    await bridge.flush();

    // Assert
    await expect(poison).rejects.toBeInstanceOf(RuleActionError);
    await expect(poison).rejects.toMatchObject({ reason: 'rule_action_failed' });
    await expect(good).resolves.toBeUndefined();
    expect(written).toEqual(['good']);
    expect(bridge.stats).toMatchObject({ written: 1, refused: 1 });
    expect(bridge.pending).toBe(0);
  });
});
