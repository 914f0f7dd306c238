/** Kinesis PutRecords writer for the clean stream. */
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { CleanStreamWriter, StreamEntry, StreamFailure } from '../ports.ts';
import { type BackoffOptions, backoff, errorMessage, errorName, isRetryable } from '../retry.ts';

/** PutRecords limits: 500 records and 5 MiB (data plus partition keys) per call. */
export const PUT_RECORDS_MAX_ENTRIES = 500;
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;

/**
 * Writes entries in calls that respect the PutRecords limits. A partial failure (throttled shard,
 * internal error) retries only the failed entries, with backoff, a bounded number of times; what still
 * fails is returned with the last error code. A whole call that throws a retryable error is retried the
 * same way; a non-retryable one marks its entries failed.
 */
export class KinesisStreamWriter implements CleanStreamWriter {
  private readonly retry;

  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
    retry: BackoffOptions = {},
  ) {
    this.retry = backoff(retry);
  }

  async put<T>(entries: readonly StreamEntry<T>[]): Promise<{ failed: StreamFailure<T>[] }> {
    const failed: StreamFailure<T>[] = [];
    for (const chunk of chunkEntries(entries)) failed.push(...(await this.putChunk(chunk)));
    return { failed };
  }

  private async putChunk<T>(chunk: readonly StreamEntry<T>[]): Promise<StreamFailure<T>[]> {
    let pending = chunk;
    let lastErrors: Map<StreamEntry<T>, { code: string; message: string }>;
    for (let attempt = 1; ; attempt++) {
      const errors = new Map<StreamEntry<T>, { code: string; message: string }>();
      try {
        const res = await this.client.send(
          new PutRecordsCommand({
            StreamName: this.streamName,
            Records: pending.map((e): PutRecordsRequestEntry => ({ PartitionKey: e.partitionKey, Data: e.data })),
          }),
        );
        const results = res.Records ?? [];
        pending.forEach((entry, i) => {
          const r = results[i];
          if (r === undefined) errors.set(entry, { code: 'MissingResult', message: 'no result for this entry' });
          else if (r.ErrorCode) errors.set(entry, { code: r.ErrorCode, message: r.ErrorMessage ?? '' });
        });
      } catch (err) {
        const code = errorName(err);
        for (const entry of pending) errors.set(entry, { code, message: errorMessage(err) });
        if (!isRetryable(err)) return toFailures(errors);
      }
      lastErrors = errors;
      if (errors.size === 0) return [];
      if (attempt >= this.retry.attempts) break;
      pending = pending.filter((e) => errors.has(e));
      await this.retry.pause(attempt);
    }
    return toFailures(lastErrors);
  }
}

function toFailures<T>(errors: Map<StreamEntry<T>, { code: string; message: string }>): StreamFailure<T>[] {
  return [...errors].map(([entry, e]) => ({ entry, errorCode: e.code, errorMessage: e.message }));
}

/** Splits entries into calls of ≤ 500 entries and ≤ 5 MiB, keeping order. */
export function chunkEntries<T>(entries: readonly StreamEntry<T>[]): StreamEntry<T>[][] {
  const chunks: StreamEntry<T>[][] = [];
  let current: StreamEntry<T>[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entry.data.byteLength + Buffer.byteLength(entry.partitionKey, 'utf8');
    if (current.length > 0 && (current.length >= PUT_RECORDS_MAX_ENTRIES || bytes + size > PUT_RECORDS_MAX_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
