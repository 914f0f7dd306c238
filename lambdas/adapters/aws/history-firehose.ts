/**
 * Firehose behind the history sink: one Direct PUT stream per table (Firehose writes each to its
 * Iceberg table), rows as one JSON object per record. `PutRecordBatch` is not atomic: it answers with
 * `FailedPutCount` and a per-record `ErrorCode` (throttling, internal failure), so the failed records
 * are sent again with backoff, and rows still failing after the last attempt are counted and thrown
 * as a {@link HistoryDeliveryError}: the handler then fails the source records and Lambda redelivers
 * them. Nothing is dropped without being counted and said.
 * Limits (https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html): 500
 * records and 4 MiB per call, 1,000 KiB per record.
 */
import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { HistoryRow, HistoryTable } from '../../core/history/tables.ts';
import { HistoryDeliveryError, type HistoryPutReport, type HistorySink } from '../history.ts';
import { type BackoffOptions, backoff, errorName, isRetryable } from '../retry.ts';

export const PUT_RECORD_BATCH_MAX_RECORDS = 500;
export const PUT_RECORD_BATCH_MAX_BYTES = 4 * 1024 * 1024;
export const FIREHOSE_MAX_RECORD_BYTES = 1000 * 1024;

/** A row too large for one Firehose record: a bug upstream (rows are small), never retried. */
export class HistoryRowTooLargeError extends Error {
  override readonly name: string = 'HistoryRowTooLargeError';
}

/** Counters of what the sink did, for metrics: retried records and records given up on. */
export interface FirehoseSinkStats {
  retriedRecords: number;
  failedRecords: number;
}

export class FirehoseHistorySink implements HistorySink {
  readonly stats: FirehoseSinkStats = { retriedRecords: 0, failedRecords: 0 };
  private readonly retry;
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly client: FirehoseClient,
    /** Delivery stream name per table; a table without one is not kept (e.g. events before its contract). */
    private readonly streams: Readonly<Partial<Record<HistoryTable, string>>>,
    retry: BackoffOptions = {},
  ) {
    this.retry = backoff({ attempts: 5, ...retry });
  }

  async put(table: HistoryTable, rows: readonly HistoryRow[]): Promise<HistoryPutReport> {
    const stream = this.streams[table];
    if (!stream || rows.length === 0) return { written: 0 };
    const records = rows.map((r) => {
      const data = this.encoder.encode(JSON.stringify(r));
      if (data.byteLength > FIREHOSE_MAX_RECORD_BYTES) {
        throw new HistoryRowTooLargeError(`${table}: a row of ${data.byteLength} bytes exceeds Firehose's record limit`);
      }
      return data;
    });
    const codes: Record<string, number> = {};
    let failed = 0;
    for (const chunk of chunks(records)) {
      const left = await this.putChunk(stream, chunk, codes);
      failed += left;
    }
    if (failed > 0) {
      this.stats.failedRecords += failed;
      throw new HistoryDeliveryError(table, failed, rows.length, codes);
    }
    return { written: rows.length };
  }

  /** Sends one call's worth of records, re-sending the failed ones; returns how many still failed. */
  private async putChunk(stream: string, chunk: Uint8Array[], codes: Record<string, number>): Promise<number> {
    let pending = chunk;
    for (let attempt = 1; ; attempt++) {
      let failedNow: Uint8Array[];
      try {
        const out = await this.client.send(
          new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: pending.map((Data) => ({ Data })) }),
        );
        if (!out.FailedPutCount) return 0;
        const responses = out.RequestResponses ?? [];
        failedNow = pending.filter((_r, i) => {
          const code = responses[i]?.ErrorCode;
          if (code) codes[code] = (codes[code] ?? 0) + 1;
          return code !== undefined;
        });
        // A response list that does not line up with the request: resend everything rather than guess.
        if (failedNow.length === 0) failedNow = pending;
      } catch (err) {
        if (!isRetryable(err)) throw err;
        const name = errorName(err);
        codes[name] = (codes[name] ?? 0) + pending.length;
        failedNow = pending;
      }
      if (attempt >= this.retry.attempts) return failedNow.length;
      this.stats.retriedRecords += failedNow.length;
      pending = failedNow;
      await this.retry.pause(attempt);
    }
  }
}

/** Splits records into PutRecordBatch calls within the record and byte limits. */
function* chunks(records: readonly Uint8Array[]): Generator<Uint8Array[]> {
  let current: Uint8Array[] = [];
  let bytes = 0;
  for (const r of records) {
    if (current.length > 0 && (current.length >= PUT_RECORD_BATCH_MAX_RECORDS || bytes + r.byteLength > PUT_RECORD_BATCH_MAX_BYTES)) {
      yield current;
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += r.byteLength;
  }
  if (current.length > 0) yield current;
}
