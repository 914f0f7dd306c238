/**
 * Lambda's Kinesis event source mapping, emulated: per shard, read with GetShardIterator/GetRecords,
 * gather a batch (batch size, batching window), build the `KinesisStreamEvent` Lambda would, call the
 * handler, and honour `batchItemFailures` (ReportBatchItemFailures): records before the lowest failed
 * sequence number are checkpointed, the rest is retried. After `maxRetries` retries the failing record
 * goes to the on-failure log and the poller moves past it, so one poison record cannot stall a shard.
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

export type StreamHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse | void>;

export interface FailedRecord {
  readonly stream: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly attempts: number;
  readonly error: string;
}

export interface PollerOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly handler: StreamHandler;
  /** Function name, for the context. */
  readonly functionName: string;
  /** @default 100 */
  readonly batchSize?: number;
  /** How long to gather records before invoking with fewer than batchSize, ms. @default 0 */
  readonly batchingWindowMs?: number;
  /** Pause between GetRecords calls when the shard is caught up, ms. @default 25 */
  readonly idlePollMs?: number;
  /** Retries of a failing record before it goes to the on-failure log. @default 3 */
  readonly maxRetries?: number;
  /** Pause before a retry, ms (multiplied by the attempt). @default 50 */
  readonly retryDelayMs?: number;
  /** Last processed sequence number per shard, from a previous run. @default {} */
  readonly checkpoints?: Readonly<Record<string, string>>;
  /** Called after every invocation, with its result (the runtime accounts and persists here). */
  readonly onInvoke?: (result: InvokeResult) => void;
  /** A record that exhausted its retries. */
  readonly onFailure?: (record: FailedRecord) => void;
}

export interface InvokeResult {
  readonly records: number;
  readonly failed: number;
  readonly ms: number;
}

export interface PollerStats {
  invocations: number;
  records: number;
  retriedBatches: number;
  onFailure: number;
  errors: number;
}

const DEFAULT_REGION_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/';

export class KinesisPoller {
  readonly stats: PollerStats = { invocations: 0, records: 0, retriedBatches: 0, onFailure: 0, errors: 0 };
  /** Last processed (or sent-to-failure) sequence number per shard. */
  readonly checkpoints: Record<string, string>;
  private stopping = false;
  private loops: Promise<void>[] = [];
  private inFlight = 0;
  private paused: Promise<void> | null = null;
  private release: (() => void) | null = null;
  private drained: (() => void) | null = null;
  private readonly idle = new Map<string, boolean>();
  private readonly o: Required<Omit<PollerOptions, 'checkpoints' | 'onInvoke' | 'onFailure'>> &
    Pick<PollerOptions, 'onInvoke' | 'onFailure'>;

  constructor(options: PollerOptions) {
    this.checkpoints = { ...(options.checkpoints ?? {}) };
    this.o = {
      batchSize: 100,
      batchingWindowMs: 0,
      idlePollMs: 25,
      maxRetries: 3,
      retryDelayMs: 50,
      ...options,
    };
  }

  async start(): Promise<void> {
    const desc = await this.o.kinesis.send(new DescribeStreamCommand({ StreamName: this.o.streamName }));
    for (const shard of desc.StreamDescription?.Shards ?? []) {
      const id = shard.ShardId!;
      this.idle.set(id, false);
      this.loops.push(this.shardLoop(id));
    }
  }

  /** True when every shard is caught up and no invocation is in flight. */
  get isIdle(): boolean {
    return [...this.idle.values()].every(Boolean);
  }

  /**
   * Holds new invocations and resolves once none is in flight: checkpoints and the handlers' effects
   * are then consistent with each other (the runtime saves its state here).
   */
  async pause(): Promise<void> {
    if (this.paused === null) this.paused = new Promise<void>((resolve) => (this.release = resolve));
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
  }

  resume(): void {
    const release = this.release;
    this.paused = null;
    this.release = null;
    release?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.resume();
    await Promise.all(this.loops);
  }

  private async iterator(shardId: string): Promise<string | undefined> {
    const after = this.checkpoints[shardId];
    const res = await this.o.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: this.o.streamName,
        ShardId: shardId,
        ...(after
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return res.ShardIterator;
  }

  private async shardLoop(shardId: string): Promise<void> {
    let iterator: string | undefined;
    let buffer: _Record[] = [];
    let firstAt = 0;
    let attempts = 0;
    while (!this.stopping) {
      try {
        iterator ??= await this.iterator(shardId);
        if (iterator === undefined) return; // a closed shard
        let fetched = 0;
        if (buffer.length < this.o.batchSize) {
          const res = await this.o.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
          const records = res.Records ?? [];
          fetched = records.length;
          if (fetched > 0 && buffer.length === 0) firstAt = Date.now();
          buffer.push(...records);
          iterator = res.NextShardIterator;
        }
        const windowOver = Date.now() - firstAt >= this.o.batchingWindowMs;
        if (buffer.length === 0 || (buffer.length < this.o.batchSize && !windowOver)) {
          this.idle.set(shardId, buffer.length === 0 && fetched === 0);
          await sleep(buffer.length === 0 ? this.o.idlePollMs : Math.min(this.o.idlePollMs, this.o.batchingWindowMs));
          continue;
        }
        if (this.paused !== null) await this.paused;
        if (this.stopping) break;
        this.idle.set(shardId, false);
        const batch = buffer.slice(0, this.o.batchSize);
        this.inFlight += 1;
        let firstFailed: number;
        try {
          firstFailed = await this.invoke(shardId, batch);
        } finally {
          this.inFlight -= 1;
          // The checkpoint below is updated before the pausing caller's continuation runs (no await between).
          if (this.inFlight === 0 && this.drained) {
            this.drained();
            this.drained = null;
          }
        }
        const done = firstFailed === -1 ? batch.length : firstFailed;
        if (done > 0) {
          this.checkpoints[shardId] = batch[done - 1]!.SequenceNumber!;
          attempts = 0;
        }
        buffer = buffer.slice(done);
        if (firstFailed !== -1) {
          attempts += 1;
          this.stats.retriedBatches += 1;
          if (attempts > this.o.maxRetries) {
            const rec = batch[firstFailed]!;
            this.stats.onFailure += 1;
            this.o.onFailure?.({
              stream: this.o.streamName,
              shardId,
              sequenceNumber: rec.SequenceNumber!,
              partitionKey: rec.PartitionKey!,
              attempts,
              error: 'record failed after retries',
            });
            this.checkpoints[shardId] = rec.SequenceNumber!;
            buffer = buffer.slice(1);
            attempts = 0;
          } else await sleep(this.o.retryDelayMs * attempts);
        }
        if (buffer.length > 0) firstAt = Date.now() - this.o.batchingWindowMs; // the rest is already due
      } catch {
        // Stand-in hiccup or expired iterator: read again from the checkpoint, dropping what was buffered.
        this.stats.errors += 1;
        iterator = undefined;
        buffer = [];
        await sleep(100);
      }
    }
  }

  /** Invokes the handler; returns the index of the lowest failed record, or -1. */
  private async invoke(shardId: string, batch: readonly _Record[]): Promise<number> {
    const event: KinesisStreamEvent = { Records: batch.map((r) => this.toEventRecord(shardId, r)) };
    const started = performance.now();
    let failedIndex = -1;
    try {
      const res = await this.o.handler(event, context(this.o.functionName));
      const failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      if (failed.size > 0) {
        failedIndex = batch.findIndex((r) => failed.has(r.SequenceNumber!));
        // An identifier that is not in the batch makes Lambda retry the whole batch.
        if (failedIndex === -1) failedIndex = 0;
      }
    } catch {
      failedIndex = 0;
    }
    this.stats.invocations += 1;
    this.stats.records += batch.length;
    this.o.onInvoke?.({
      records: batch.length,
      failed: failedIndex === -1 ? 0 : batch.length - failedIndex,
      ms: performance.now() - started,
    });
    return failedIndex;
  }

  private toEventRecord(shardId: string, r: _Record): KinesisStreamRecord {
    const sequenceNumber = r.SequenceNumber!;
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.PartitionKey!,
        sequenceNumber,
        data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
        approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/pdm-local',
      awsRegion: 'us-east-1',
      eventSourceARN: `${DEFAULT_REGION_ARN}${this.o.streamName}`,
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function context(functionName: string): Context {
  const deadline = Date.now() + 60_000;
  return {
    awsRequestId: randomUUID(),
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
