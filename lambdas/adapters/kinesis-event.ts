/** Helpers for Kinesis event-source batches: decoding records and the partial batch response. */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

export function recordBytes(record: KinesisStreamRecord): Uint8Array {
  return new Uint8Array(Buffer.from(record.kinesis.data, 'base64'));
}

/**
 * The partial batch response for `failed` sequence numbers, through Powertools' batch processor: the
 * batch work is done beforehand (one PutRecords for all records), so the per-record handler only
 * reports the verdict. `throwOnFullBatchFailure` is off because listing every record has the same
 * effect (Lambda retries from the first) and keeps the response explicit.
 */
export async function partialResponse(
  event: KinesisStreamEvent,
  failed: ReadonlySet<string>,
): Promise<KinesisStreamBatchResponse> {
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  const verdict = async (record: KinesisStreamRecord): Promise<void> => {
    if (failed.has(record.kinesis.sequenceNumber)) {
      throw new RecordFailedError(record.kinesis.sequenceNumber);
    }
  };
  return processPartialResponse(event, verdict, processor, { throwOnFullBatchFailure: false });
}

/** A record whose infrastructure write failed: listed in batchItemFailures so Lambda retries it. */
export class RecordFailedError extends Error {
  override readonly name: string = 'RecordFailedError';
  constructor(readonly sequenceNumber: string) {
    super(`record ${sequenceNumber} failed an infrastructure write`);
  }
}
