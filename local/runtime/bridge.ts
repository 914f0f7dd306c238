/**
 * The IoT topic rule stand-in: every accepted device message becomes the raw stream envelope the rule
 * writes (`SELECT encode(*, 'base64') AS payload, topic() AS topic, timestamp() AS receivedAt`), put with
 * partition key = assetId (`${topic(3)}`). Messages are queued and written with PutRecords in batches;
 * entries Kinesis refuses are retried, in order, until they are written: the broker has acknowledged
 * them, so dropping one would lose a device message.
 */
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { encodeRawRecord } from '../../lambdas/adapters/records.ts';
import type { DeviceMessageIn } from './broker.ts';

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
  /** Wait before retrying after a failure, ms. @default 100 */
  readonly retryDelayMs?: number;
}

export interface RuleBridgeStats {
  /** Records written to the raw stream. */
  written: number;
  /** PutRecords calls (or entries) that failed and were retried. */
  retries: number;
}

export class RuleBridge {
  readonly stats: RuleBridgeStats = { written: 0, retries: 0 };
  private queue: { partitionKey: string; data: Uint8Array }[] = [];
  private running: Promise<void> | null = null;
  private readonly maxBatch: number;
  private readonly retryDelayMs: number;
  private stopped = false;

  constructor(private readonly options: RuleBridgeOptions) {
    this.maxBatch = options.maxBatch ?? 500;
    this.retryDelayMs = options.retryDelayMs ?? 100;
  }

  /** Queues a message; the write starts at once (batching whatever arrives meanwhile). */
  accept(message: DeviceMessageIn): void {
    this.queue.push(ruleRecord(message));
    if (this.running === null) this.running = this.drainLoop().finally(() => (this.running = null));
  }

  /** Messages accepted but not yet written. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves when the queue is empty (everything accepted so far is in the stream). */
  async flush(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /** Flushes, then refuses to retry forever: used on shutdown. */
  async close(): Promise<void> {
    await this.flush();
    this.stopped = true;
  }

  private async drainLoop(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      const batch = this.queue.slice(0, this.maxBatch);
      let failed: typeof batch;
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
      } catch {
        failed = batch;
      }
      this.queue.splice(0, batch.length, ...failed);
      this.stats.written += batch.length - failed.length;
      if (failed.length > 0) {
        this.stats.retries += 1;
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs));
      }
    }
  }
}
