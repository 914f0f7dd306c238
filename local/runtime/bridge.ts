/**
 * The IoT topic rule stand-in: every accepted device message becomes the raw stream envelope the rule
 * writes (`SELECT encode(*, 'base64') AS payload, topic() AS topic, timestamp() AS receivedAt`), put with
 * partition key = assetId (`${topic(3)}`). Messages are queued and written with PutRecords in batches.
 * `accept` resolves once the record is in the stream, so the broker acknowledges only written messages.
 * Entries Kinesis refuses are retried, in order, a bounded number of times; a record that still fails,
 * or that a Kinesis record cannot hold at all, rejects with a {@link RuleActionError} (the broker counts
 * it as refused) instead of blocking every message queued behind it.
 */
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { encodeRawRecord } from '../../lambdas/adapters/records.ts';
import { type DeviceMessageIn, RuleActionError } from './broker.ts';

/**
 * Kinesis's record limit: the data blob (before the base64 of the API's JSON) plus the partition key,
 * at most 1 MiB (Kinesis Data Streams API Reference, PutRecordsRequestEntry, "Data").
 */
export const MAX_KINESIS_RECORD_BYTES = 1024 * 1024;

/** The raw record the IoT rule writes for a device message. */
export function ruleRecord(message: Pick<DeviceMessageIn, 'topic' | 'payload' | 'receivedAt'>): { partitionKey: string; data: Uint8Array } {
  // `${topic(3)}`: the third topic level, 1-based.
  const partitionKey = message.topic.split('/')[2] ?? '';
  return { partitionKey, data: encodeRawRecord(message.topic, message.payload, message.receivedAt) };
}

export interface RuleBridgeOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  /** Records per PutRecords. @default 500 */
  readonly maxBatch?: number;
  /** Wait before the first retry after a failure, ms; doubles per attempt up to 2 s. @default 100 */
  readonly retryDelayMs?: number;
  /** Attempts per record before it is given up (refused). @default 8 */
  readonly maxAttempts?: number;
}

export interface RuleBridgeStats {
  /** Records written to the raw stream. */
  written: number;
  /** PutRecords calls (or entries) that failed and were retried. */
  retries: number;
  /** Records given up after `maxAttempts` failures, or too large for a Kinesis record. */
  refused: number;
}

interface Entry {
  readonly partitionKey: string;
  readonly data: Uint8Array;
  attempts: number;
  readonly settle: { resolve: () => void; reject: (err: Error) => void };
}

export class RuleBridge {
  readonly stats: RuleBridgeStats = { written: 0, retries: 0, refused: 0 };
  private queue: Entry[] = [];
  private running: Promise<void> | null = null;
  private readonly maxBatch: number;
  private readonly retryDelayMs: number;
  private readonly maxAttempts: number;
  private stopped = false;

  constructor(private readonly options: RuleBridgeOptions) {
    this.maxBatch = options.maxBatch ?? 500;
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.maxAttempts = options.maxAttempts ?? 8;
  }

  /**
   * Queues a message; the write starts at once (batching whatever arrives meanwhile). Resolves when the
   * record is in the stream; rejects with {@link RuleActionError} when it cannot be written.
   */
  accept(message: DeviceMessageIn): Promise<void> {
    const record = ruleRecord(message);
    const size = record.data.length + Buffer.byteLength(record.partitionKey, 'utf8');
    if (size > MAX_KINESIS_RECORD_BYTES) {
      this.stats.refused += 1;
      return Promise.reject(new RuleActionError('record_too_large', `raw record of ${size} bytes exceeds Kinesis's ${MAX_KINESIS_RECORD_BYTES}`));
    }
    if (this.stopped) return Promise.reject(new RuleActionError('rule_action_failed', 'the rule bridge is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ...record, attempts: 0, settle: { resolve, reject } });
      if (this.running === null) this.running = this.drainLoop().finally(() => (this.running = null));
    });
  }

  /** Messages accepted but not yet written. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves when the queue is empty: everything accepted so far is written or refused. */
  async flush(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /** Flushes, then refuses whatever arrives later. */
  async close(): Promise<void> {
    await this.flush();
    this.stopped = true;
  }

  private async drainLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.maxBatch);
      let failed: Entry[];
      let why: string;
      try {
        const res = await this.options.kinesis.send(
          new PutRecordsCommand({
            StreamName: this.options.streamName,
            Records: batch.map((r) => ({ PartitionKey: r.partitionKey, Data: r.data })),
          }),
        );
        const results = res.Records ?? [];
        // Entries that succeeded are in the stream; writing them again would duplicate them.
        failed = batch.filter((_r, i) => results[i] === undefined || Boolean(results[i]!.ErrorCode));
        why = results.find((r) => r.ErrorCode)?.ErrorCode ?? 'no result for the entry';
        for (const [i, r] of batch.entries()) if (results[i] !== undefined && !results[i]!.ErrorCode) r.settle.resolve();
      } catch (err) {
        failed = batch;
        why = (err as Error).message;
      }
      this.stats.written += batch.length - failed.length;
      const retry: Entry[] = [];
      for (const r of failed) {
        r.attempts += 1;
        if (r.attempts < this.maxAttempts) retry.push(r);
        else {
          this.stats.refused += 1;
          r.settle.reject(new RuleActionError('rule_action_failed', `PutRecords failed ${r.attempts} times: ${why}`));
        }
      }
      this.queue.splice(0, batch.length, ...retry);
      if (retry.length > 0) {
        this.stats.retries += 1;
        const attempts = Math.max(...retry.map((r) => r.attempts));
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, this.retryDelayMs * 2 ** (attempts - 1))));
      }
    }
  }
}
