/**
 * The clean function: raw stream → `cleanMessage` → clean stream, quarantine and telemetry.
 * `createHandler` takes its ports as parameters (tests and local mode inject stand-ins);
 * `handler.ts` wires them from the environment once per container.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { CleaningLimits, RawMessage } from '../core/cleaning/clean.ts';
import { cleanMessage } from '../core/cleaning/clean.ts';
import { addCounts, type Counts, emptyCounts } from '../core/cleaning/counts.ts';
import type { QuarantineRecord } from '../core/cleaning/reasons.ts';
import { parseTopic } from '../core/contract/topics.ts';
import type { TwinInput } from '../core/twin/twin.ts';
import type { CleanSample } from '../core/types.ts';
import { partialResponse, recordBytes } from '../adapters/kinesis-event.ts';
import type { AssetRegistry, CleanStreamWriter, QuarantineSink, StreamEntry, TelemetryStore } from '../adapters/ports.ts';
import { decodeRawRecord, encodeCleanItem, InvalidEnvelopeError, type Line, packItems } from '../adapters/records.ts';
import { errorMessage } from '../adapters/retry.ts';

export interface CleanDeps {
  readonly registry: AssetRegistry;
  readonly stream: CleanStreamWriter;
  readonly quarantine: QuarantineSink;
  readonly telemetry: TelemetryStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** @default DEFAULT_CLEANING_LIMITS */
  readonly limits?: Partial<CleaningLimits>;
  /** Largest clean record, bytes. @default MAX_CLEAN_RECORD_BYTES */
  readonly maxRecordBytes?: number;
}

/** What one invocation did, also returned to tests through `lastSummary`. */
export interface CleanSummary {
  readonly counts: Counts;
  readonly byReason: Readonly<Record<string, number>>;
  readonly cleanRecords: number;
  readonly failed: readonly string[];
  readonly telemetryRejected: number;
}

export type CleanHandler = ((event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>) & {
  lastSummary?: CleanSummary;
};

export function createHandler(deps: CleanDeps): CleanHandler {
  const { logger, metrics } = deps;
  const handler: CleanHandler = async (event, context) => {
    const requestId = context.awsRequestId;
    logger.appendKeys({ requestId });
    const failed = new Set<string>();
    let counts = emptyCounts();
    const quarantine: QuarantineRecord[] = [];
    const raws: RawMessage[] = [];

    for (const record of event.Records) {
      const seq = record.kinesis.sequenceNumber;
      try {
        raws.push(decodeRawRecord(recordBytes(record), seq));
      } catch (err) {
        if (!(err instanceof InvalidEnvelopeError)) throw err;
        counts = addCounts(counts, oneQuarantinedMessage());
        quarantine.push({
          reason: 'invalid_envelope',
          level: 'message',
          detail: `raw stream record is not the IoT rule envelope: ${err.message}`,
          messageId: seq,
          topic: '',
          receivedAt: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
          assetId: record.kinesis.partitionKey,
          payload: record.kinesis.data,
        });
      }
    }

    // One registry round trip for the batch; cleanMessage then looks assets up synchronously.
    const assetIds = raws.map((r) => parseTopic(r.topic)?.assetId).filter((id): id is string => id !== undefined);
    let assets;
    try {
      assets = await deps.registry.getMany(assetIds);
    } catch (err) {
      // Not knowing an asset is not the same as it being unknown: retry rather than quarantine.
      logger.error('asset registry lookup failed; failing the records that need it', { error: errorMessage(err) });
      for (const r of raws) if (parseTopic(r.topic)) failed.add(r.messageId);
      assets = new Map();
    }

    const perAsset = new Map<string, Line<string>[]>();
    const samples: CleanSample[] = [];
    for (const raw of raws) {
      if (failed.has(raw.messageId)) continue;
      const result = cleanMessage(raw, { lookupAsset: (id) => assets.get(id), ...(deps.limits ? { limits: deps.limits } : {}) });
      counts = addCounts(counts, result.counts);
      quarantine.push(...result.quarantine);
      const push = (assetId: string, item: TwinInput) => {
        const list = perAsset.get(assetId) ?? [];
        list.push({ text: encodeCleanItem(item), source: raw.messageId });
        perAsset.set(assetId, list);
      };
      for (const sample of result.samples) {
        samples.push(sample);
        push(sample.assetId, { kind: 'sample', sample });
      }
      for (const event of result.maintenance) push(event.assetId, { kind: 'maintenance', event });
      for (const event of result.events) push(event.assetId, { kind: 'event', event });
    }

    const entries: StreamEntry<readonly string[]>[] = [];
    for (const [assetId, lines] of perAsset) {
      for (const packed of packItems(lines, deps.maxRecordBytes)) {
        entries.push({ partitionKey: assetId, data: packed.data, tag: packed.sources });
      }
    }

    const [streamResult, quarantineResult, telemetryResult] = await Promise.allSettled([
      deps.stream.put(entries),
      deps.quarantine.put(quarantine, requestId),
      deps.telemetry.writeTelemetry(samples),
    ]);

    let streamFailed = entries.length;
    if (streamResult.status === 'rejected') {
      logger.error('clean stream write failed', { error: errorMessage(streamResult.reason) });
      for (const e of entries) for (const s of e.tag) failed.add(s);
    } else {
      streamFailed = streamResult.value.failed.length;
      for (const f of streamResult.value.failed) {
        for (const s of f.entry.tag) failed.add(s);
      }
      if (streamResult.value.failed.length > 0) {
        logger.error('clean stream records failed after retries', {
          failed: streamResult.value.failed.length,
          errorCodes: [...new Set(streamResult.value.failed.map((f) => f.errorCode))],
        });
      }
    }
    if (quarantineResult.status === 'rejected') {
      logger.error('quarantine write failed', { error: errorMessage(quarantineResult.reason) });
      for (const q of quarantine) failed.add(q.messageId);
    } else {
      for (const f of quarantineResult.value.failed) {
        logger.error('quarantine object failed', { reason: f.reason, error: f.error });
        for (const id of f.messageIds) failed.add(id);
      }
    }
    let telemetryRejected = 0;
    if (telemetryResult.status === 'rejected') {
      logger.error('telemetry write failed', { error: errorMessage(telemetryResult.reason) });
      for (const s of samples) if (s.messageId !== undefined) failed.add(s.messageId);
    } else if (telemetryResult.value.rejected.length > 0) {
      // Rejections are about the data (duplicate time, retention): retrying cannot help, so they are
      // logged with their reason and counted, and the samples still went to the clean stream.
      telemetryRejected = telemetryResult.value.rejected.length;
      logger.warn('telemetry records rejected', { rejected: telemetryResult.value.rejected.slice(0, 20) });
    }

    const byReason: Record<string, number> = {};
    for (const q of quarantine) byReason[q.reason] = (byReason[q.reason] ?? 0) + 1;
    emit(metrics, counts, byReason, entries.length - streamFailed, failed.size, telemetryRejected);
    logger.info('clean batch', { records: event.Records.length, counts, byReason, failed: failed.size });
    handler.lastSummary = { counts, byReason, cleanRecords: entries.length - streamFailed, failed: [...failed], telemetryRejected };
    return partialResponse(event, failed);
  };
  return handler;
}

function oneQuarantinedMessage(): Counts {
  const c = emptyCounts();
  c.messages.received = 1;
  c.messages.quarantined = 1;
  return c;
}

function emit(
  metrics: Metrics,
  counts: Counts,
  byReason: Record<string, number>,
  cleanRecords: number,
  failed: number,
  telemetryRejected: number,
): void {
  const add = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  add('MessagesReceived', counts.messages.received);
  add('MessagesAccepted', counts.messages.accepted);
  add('MessagesQuarantined', counts.messages.quarantined);
  add('SamplesReceived', counts.samples.received);
  add('SamplesClean', counts.samples.clean);
  add('SamplesQuarantined', counts.samples.quarantined);
  add('ReadingsQuarantined', counts.readings.quarantined);
  if (counts.events !== undefined) {
    add('EventsReceived', counts.events.received);
    add('EventsClean', counts.events.clean);
    add('EventsQuarantined', counts.events.quarantined);
  }
  add('CleanRecordsWritten', cleanRecords);
  add('RecordsFailed', failed);
  add('TelemetryRejected', telemetryRejected);
  for (const [reason, n] of Object.entries(byReason)) {
    metrics.singleMetric().addDimension('reason', reason).addMetric('Quarantined', MetricUnit.Count, n);
  }
  metrics.publishStoredMetrics();
}
