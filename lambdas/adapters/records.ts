/**
 * Wire formats of the two Kinesis streams, shared by the clean and features functions.
 *
 * Raw stream (written by the IoT rule): UTF-8 JSON `{ payload: <base64 of the device message>, topic,
 * receivedAt: <epoch ms> }`, partition key = assetId.
 *
 * Clean stream: a record's data is one or more items, newline-delimited, each item UTF-8 JSON
 * `{ v: 1, kind: 'sample', sample }`, `{ v: 1, kind: 'maintenance', event }` or, for a device event
 * (`pdm.event.v1`), `{ v: 1, kind: 'event', event }`. The clean function
 * packs an asset's items of one invocation into as few records as fit {@link MAX_CLEAN_RECORD_BYTES}:
 * a shard takes 1,000 records/s but 1 MB/s, and a sample is ~300 bytes, so one item per record would
 * make the record rate, not the bytes, the limit. `JSON.stringify` escapes newlines inside strings,
 * so a newline only ever separates items.
 */
import type { RawMessage } from '../core/cleaning/clean.ts';
import type { TwinInput } from '../core/twin/twin.ts';
import type { CleanEvent, CleanSample, MaintenanceEvent } from '../core/types.ts';

export const CLEAN_RECORD_VERSION = 1;
/** Packing limit of one clean record: a quarter of Kinesis's 1 MiB, so a record stays cheap to retry. */
export const MAX_CLEAN_RECORD_BYTES = 256 * 1024;

export type CleanItem =
  | { readonly v: 1; readonly kind: 'sample'; readonly sample: CleanSample }
  | { readonly v: 1; readonly kind: 'maintenance'; readonly event: MaintenanceEvent }
  | { readonly v: 1; readonly kind: 'event'; readonly event: CleanEvent };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** The raw record is not the IoT rule's envelope; `detail` says why. */
export class InvalidEnvelopeError extends Error {
  override readonly name: string = 'InvalidEnvelopeError';
}

/**
 * Decodes one raw stream record (the Kinesis data bytes) into the message `cleanMessage` takes.
 * @throws InvalidEnvelopeError when the bytes are not the envelope.
 */
export function decodeRawRecord(data: Uint8Array, messageId: string): RawMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(data));
  } catch (err) {
    throw new InvalidEnvelopeError(`record data is not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidEnvelopeError('record data is not a JSON object');
  }
  const { payload, topic, receivedAt } = parsed as Record<string, unknown>;
  if (typeof payload !== 'string') throw new InvalidEnvelopeError('payload is not a base64 string');
  if (typeof topic !== 'string') throw new InvalidEnvelopeError('topic is not a string');
  if (typeof receivedAt !== 'number' || !Number.isFinite(receivedAt)) {
    throw new InvalidEnvelopeError('receivedAt is not epoch milliseconds');
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload) || payload.length % 4 !== 0) {
    throw new InvalidEnvelopeError('payload is not base64');
  }
  return { topic, receivedAt, messageId, payload: new Uint8Array(Buffer.from(payload, 'base64')) };
}

/** The envelope the IoT rule writes, for tests and the local rule bridge. */
export function encodeRawRecord(topic: string, payload: string | Uint8Array, receivedAt: number): Uint8Array {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  return encoder.encode(JSON.stringify({ payload: bytes.toString('base64'), topic, receivedAt }));
}

export function encodeCleanItem(item: TwinInput): string {
  return JSON.stringify(
    item.kind === 'sample'
      ? { v: CLEAN_RECORD_VERSION, kind: 'sample', sample: item.sample }
      : { v: CLEAN_RECORD_VERSION, kind: item.kind, event: item.event },
  );
}

/** A clean record that does not decode: a bug or a foreign writer, never device input. */
export class InvalidCleanRecordError extends Error {
  override readonly name: string = 'InvalidCleanRecordError';
}

/** Decodes a clean stream record into twin inputs, in order. @throws InvalidCleanRecordError */
export function decodeCleanRecord(data: Uint8Array): TwinInput[] {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    throw new InvalidCleanRecordError('clean record is not UTF-8');
  }
  const out: TwinInput[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch (err) {
      throw new InvalidCleanRecordError(`clean item is not JSON: ${(err as Error).message}`);
    }
    const it = item as Partial<Record<'v' | 'kind' | 'sample' | 'event', unknown>> | null;
    if (it?.v !== CLEAN_RECORD_VERSION) throw new InvalidCleanRecordError(`clean item version ${String(it?.v)}`);
    if (it.kind === 'sample' && isAssetItem(it.sample)) out.push({ kind: 'sample', sample: it.sample as CleanSample });
    else if (it.kind === 'maintenance' && isAssetItem(it.event)) {
      out.push({ kind: 'maintenance', event: it.event as MaintenanceEvent });
    } else if (it.kind === 'event' && isAssetItem(it.event) && isEventBody(it.event)) {
      out.push({ kind: 'event', event: it.event as CleanEvent });
    } else throw new InvalidCleanRecordError(`clean item kind ${String(it.kind)} or its body is malformed`);
  }
  return out;
}

function isAssetItem(x: unknown): boolean {
  const o = x as { assetId?: unknown; ts?: unknown } | null;
  return typeof o === 'object' && o !== null && typeof o.assetId === 'string' && typeof o.ts === 'number';
}

function isEventBody(x: unknown): boolean {
  const o = x as { seq?: unknown; code?: unknown; severity?: unknown };
  return Number.isInteger(o.seq) && typeof o.code === 'string' && typeof o.severity === 'string';
}

/** Asset of a twin input. */
export function assetOf(item: TwinInput): string {
  return item.kind === 'sample' ? item.sample.assetId : item.event.assetId;
}

/** An encoded item and the source it came from (e.g. the raw record's sequence number). */
export interface Line<T> {
  readonly text: string;
  readonly source: T;
}

export interface Packed<T> {
  readonly data: Uint8Array;
  /** Sources of the items in this record, in order, without repeats. */
  readonly sources: readonly T[];
}

/**
 * Packs encoded items (one asset's, in order) into record payloads of at most `maxBytes`. The items of
 * one source (one device message) are never split over two records: the features function decides
 * whether a message kept at least one clean sample, so it must see all of them in one invocation. A
 * message larger than `maxBytes` on its own gets a record of its own (cleaning bounds a message's items
 * well below Kinesis's 1 MiB: 128 KiB of payload, at most 1,000 samples).
 */
export function packItems<T>(lines: readonly Line<T>[], maxBytes = MAX_CLEAN_RECORD_BYTES): Packed<T>[] {
  const out: Packed<T>[] = [];
  let texts: string[] = [];
  let sources: T[] = [];
  let size = 0;
  const flush = () => {
    out.push({ data: encoder.encode(texts.join('\n')), sources });
    texts = [];
    sources = [];
    size = 0;
  };
  for (let i = 0; i < lines.length; ) {
    // One group: the consecutive lines of one source.
    const source = lines[i]!.source;
    let j = i;
    let groupBytes = 0;
    while (j < lines.length && lines[j]!.source === source) groupBytes += Buffer.byteLength(lines[j++]!.text, 'utf8') + 1;
    if (texts.length > 0 && size + groupBytes > maxBytes) flush();
    for (let k = i; k < j; k++) texts.push(lines[k]!.text);
    if (sources[sources.length - 1] !== source && !sources.includes(source)) sources.push(source);
    size += groupBytes;
    i = j;
  }
  if (texts.length > 0) flush();
  return out;
}
