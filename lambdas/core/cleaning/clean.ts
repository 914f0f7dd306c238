/**
 * Stage 1 of cleaning: stateless checks of one MQTT message (the "expectations" of the bronze → silver
 * step). Per-asset checks that need memory (cross-message duplicates, late samples, flatlines) are in
 * `screen.ts`, which runs where the twin state lives.
 *
 * The envelope and sample shapes are checked by hand rather than with the zod schemas: this runs per
 * message on the hot path, a hand check is several times faster, allocates nothing, and lets each fault
 * map to its own reason. Tests assert that it accepts exactly what the contract's zod schemas accept.
 */
import { findAssetModel } from '../catalog/index.ts';
import type { AssetInfo, AssetLookup, AssetModel } from '../catalog/types.ts';
import {
  DeviceEventSchema,
  EVENT_SCHEMA,
  IdSchema,
  MAINTENANCE_SCHEMA,
  MAX_EVENTS_PER_MESSAGE,
  MAX_EPOCH_MS,
  MAX_MESSAGE_BYTES,
  MAX_READINGS_PER_SAMPLE,
  MAX_SAMPLES_PER_MESSAGE,
  MaintenanceMessageSchema,
  MIN_EPOCH_MS,
  TELEMETRY_SCHEMA,
  TimestampSchema,
  toEpochMs,
} from '../contract/telemetry.ts';
import { type ParsedTopic, parseTopic } from '../contract/topics.ts';
import type { CleanEvent, CleanSample, MaintenanceEvent } from '../types.ts';
import type { Counts } from './counts.ts';
import { indexModel, type ModelIndex } from './model-index.ts';
import { type QuarantineRecord, REASONS, type ReasonCode } from './reasons.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Bounds applied by {@link cleanMessage}; times are measured against the message's `receivedAt`. */
export interface CleaningLimits {
  /**
   * Largest payload accepted, in bytes as received (UTF-8 bytes for a string payload).
   * @default MAX_MESSAGE_BYTES (128 KiB, the IoT Core limit)
   */
  readonly maxMessageBytes: number;
  /**
   * How far a sample's `ts` may lie after `receivedAt` (device clock skew) before it is `future_timestamp`.
   * @default 300000 (5 minutes)
   */
  readonly maxFutureSkewMs: number;
  /**
   * How far a sample's `ts` may lie before `receivedAt` before it is `stale_timestamp`.
   * Not applied to maintenance events, which are often logged days after the work.
   * @default 604800000 (7 days)
   */
  readonly maxAgeMs: number;
}

export const DEFAULT_CLEANING_LIMITS: Readonly<CleaningLimits> = Object.freeze({
  maxMessageBytes: MAX_MESSAGE_BYTES,
  maxFutureSkewMs: 5 * MINUTE,
  maxAgeMs: 7 * DAY,
});

/** One message as it came off MQTT (or a Kinesis record carrying it). */
export interface RawMessage {
  readonly topic: string;
  readonly payload: string | Uint8Array;
  /** Identifies the message in quarantine records (Kinesis sequence number, MQTT packet id, line number…). */
  readonly messageId: string;
  /** Epoch ms at which the pipeline received the message; the reference for future/stale checks. */
  readonly receivedAt: number;
}

export interface CleaningContext {
  /** Resolves the registration of an asset; a throwing lookup quarantines the message as `unknown_asset`. */
  readonly lookupAsset: AssetLookup;
  /** @default DEFAULT_CLEANING_LIMITS, per field */
  readonly limits?: Partial<CleaningLimits>;
}

/** From the topic; `unknown` when the topic is not one of ours. */
export type MessageKind = 'telemetry' | 'maintenance' | 'events' | 'unknown';

export interface CleanResult {
  readonly kind: MessageKind;
  /** Clean samples, in message order, each holding only its valid readings. */
  readonly samples: CleanSample[];
  /** At most one event (maintenance messages). */
  readonly maintenance: MaintenanceEvent[];
  /** Clean device events (`pdm.event.v1` messages), in message order. */
  readonly events: CleanEvent[];
  readonly quarantine: QuarantineRecord[];
  readonly counts: Counts;
}

type MutableRecord = { -readonly [K in keyof QuarantineRecord]: QuarantineRecord[K] };

/** What every record of one message shares, plus the result being built. */
interface Run {
  readonly messageId: string;
  readonly topic: string;
  readonly receivedAt: number;
  readonly siteId: string | undefined;
  readonly assetId: string | undefined;
  readonly result: CleanResult;
  /** The message text as received (or its stand-in for non-UTF-8 input), for message-level records. */
  text: string;
  /** The samples of a message whose envelope is valid: message-level faults count their readings. */
  carried: readonly unknown[] | undefined;
}

interface AssetContext {
  readonly info: AssetInfo;
  readonly model: AssetModel;
  readonly index: ModelIndex;
  readonly notAfter: number;
  readonly notBefore: number;
}

/** Claimed seqs of a batch; the set is only built when a batch is not in increasing seq order. */
interface SeqTracker {
  max: number;
  claimed: number[];
  set: Set<number> | undefined;
}

const IsoDateTimeSchema = TimestampSchema.options[0];
const BATCH_KEYS = new Set(['schema', 'assetId', 'samples']);
const SINGLE_KEYS = new Set(['schema', 'assetId', 'ts', 'seq', 'readings', 'component']);
const SAMPLE_KEYS = new Set(['ts', 'seq', 'readings', 'component']);
const EVENT_BATCH_KEYS = new Set(['schema', 'assetId', 'events']);
const EVENT_KEYS = new Set(['ts', 'seq', 'code', 'severity', 'component', 'message']);
const SCHEMA_OF_TOPIC = { telemetry: TELEMETRY_SCHEMA, maintenance: MAINTENANCE_SCHEMA, events: EVENT_SCHEMA } as const;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Cleans one message: checks it against the topic and telemetry/maintenance contracts and the asset
 * catalog, and splits it into clean samples (or a maintenance event) and quarantine records.
 *
 * Never throws: every fault, including a throwing `lookupAsset`, becomes a quarantine record, and
 * `counts` always satisfies received = clean + quarantined for samples and readings, and
 * accepted + quarantined = 1 for the message.
 */
export function cleanMessage(input: RawMessage, ctx: CleaningContext): CleanResult {
  try {
    return cleanUnguarded(input, ctx);
  } catch (err) {
    // Unreachable for any payload (tests fuzz it); guards against hostile lookups and future bugs.
    return internalFailure(input, err);
  }
}

function cleanUnguarded(input: RawMessage, ctx: CleaningContext): CleanResult {
  const topic = parseTopic(input.topic);
  const run = newRun(input, topic);
  const maxBytes = ctx.limits?.maxMessageBytes ?? DEFAULT_CLEANING_LIMITS.maxMessageBytes;
  const payload = input.payload;

  let text: string;
  if (typeof payload === 'string') {
    if (!fitsUtf8(payload, maxBytes)) {
      const wellFormed = isWellFormed(payload);
      run.text = wellFormed ? payload : JSON.stringify(payload);
      const note = wellFormed ? '' : ' (payload holds it JSON-escaped: it has unpaired UTF-16 surrogates)';
      return messageFault(
        run,
        'payload_too_large',
        `payload is ${utf8Length(payload)} bytes, over the ${maxBytes}-byte limit${note}`,
      );
    }
    if (!isWellFormed(payload)) {
      run.text = JSON.stringify(payload);
      return messageFault(
        run,
        'invalid_encoding',
        'payload string has unpaired UTF-16 surrogates, so it is not valid UTF-8 text; payload holds it JSON-escaped',
      );
    }
    text = payload;
  } else if (payload instanceof Uint8Array) {
    const decoded = decodeUtf8(payload);
    run.text = decoded ?? base64(payload);
    if (payload.byteLength > maxBytes) {
      const note = decoded === undefined ? ' (payload holds it base64-encoded: it is not valid UTF-8)' : '';
      return messageFault(
        run,
        'payload_too_large',
        `payload is ${payload.byteLength} bytes, over the ${maxBytes}-byte limit${note}`,
      );
    }
    if (decoded === undefined) {
      return messageFault(
        run,
        'invalid_encoding',
        'payload is not valid UTF-8; payload holds it base64-encoded',
      );
    }
    text = decoded;
  } else {
    run.text = '';
    return messageFault(
      run,
      'invalid_encoding',
      `payload is ${describe(payload)}, expected a string or bytes`,
    );
  }
  run.text = text;

  if (topic === undefined) {
    return messageFault(
      run,
      'invalid_topic',
      `topic ${quote(input.topic)} is not pdm/{siteId}/{assetId}/telemetry, …/maintenance or …/events`,
    );
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return messageFault(run, 'invalid_json', `payload is not JSON: ${errorText(err)}`);
  }
  if (!isPlainObject(parsed)) {
    return messageFault(run, 'invalid_envelope', `payload is ${describe(parsed)}, expected a JSON object`);
  }

  const expected = SCHEMA_OF_TOPIC[topic.kind];
  const schema = parsed.schema;
  if (typeof schema === 'string' && schema !== expected) {
    const known = Object.values(SCHEMA_OF_TOPIC).includes(schema as never);
    return messageFault(
      run,
      'unsupported_schema',
      known
        ? `schema "${schema}" was sent on a ${topic.kind} topic, which takes "${expected}"`
        : `schema ${quote(schema)} is not supported on a ${topic.kind} topic, which takes "${expected}"`,
    );
  }
  if (schema === undefined)
    return messageFault(run, 'invalid_envelope', `schema is missing; expected "${expected}"`);
  if (typeof schema !== 'string') {
    return messageFault(run, 'invalid_envelope', `schema is ${describe(schema)}; expected "${expected}"`);
  }

  if (topic.kind === 'events') return cleanEvents(run, topic, parsed, ctx);
  return topic.kind === 'telemetry'
    ? cleanTelemetry(run, topic, parsed, ctx)
    : cleanMaintenance(run, topic, parsed, ctx);
}

function cleanTelemetry(
  run: Run,
  topic: ParsedTopic,
  msg: Record<string, unknown>,
  ctx: CleaningContext,
): CleanResult {
  if (!IdSchema.safeParse(msg.assetId).success) {
    return messageFault(
      run,
      'invalid_envelope',
      `assetId ${show(msg.assetId)} is not 1–128 characters of A–Z a–z 0–9 _ - :`,
    );
  }
  const single = msg.samples === undefined;
  const allowed = single ? SINGLE_KEYS : BATCH_KEYS;
  for (const key in msg) {
    if (!allowed.has(key)) {
      return messageFault(
        run,
        'invalid_envelope',
        `unexpected field ${quote(key)} in a ${single ? 'single-sample' : 'batch'} telemetry message`,
      );
    }
  }
  let samples: unknown[] | undefined;
  if (single) {
    if (msg.ts === undefined || msg.seq === undefined || msg.readings === undefined) {
      return messageFault(
        run,
        'invalid_envelope',
        'telemetry needs either a samples array or ts, seq and readings at the top level',
      );
    }
  } else {
    if (!Array.isArray(msg.samples)) {
      return messageFault(run, 'invalid_envelope', `samples is ${describe(msg.samples)}, expected an array`);
    }
    if (msg.samples.length > MAX_SAMPLES_PER_MESSAGE) {
      return messageFault(
        run,
        'invalid_envelope',
        `samples holds ${msg.samples.length} samples, over the limit of ${MAX_SAMPLES_PER_MESSAGE}`,
      );
    }
    samples = msg.samples;
  }

  // From here on the samples can be counted, so message-level faults count them as quarantined.
  const counts = run.result.counts;
  counts.samples.received = single ? 1 : samples!.length;
  run.carried = single ? [msg] : samples;

  const asset = resolveAsset(run, topic, msg.assetId as string, ctx);
  if (asset === undefined) return run.result;
  if (samples !== undefined && samples.length === 0) {
    return messageFault(run, 'empty_batch', 'samples is empty: the message carries no data');
  }

  // Each sample adds its readings to `received`, its faults to `quarantined`; the rest are clean.
  if (single) {
    cleanSample(run, asset, msg, 0, true, undefined);
  } else {
    const tracker: SeqTracker | undefined =
      samples!.length > 1 ? { max: -1, claimed: [], set: undefined } : undefined;
    for (let i = 0; i < samples!.length; i++) cleanSample(run, asset, samples![i], i, false, tracker);
  }
  counts.samples.clean = run.result.samples.length;
  counts.samples.quarantined = counts.samples.received - counts.samples.clean;
  counts.readings.clean = counts.readings.received - counts.readings.quarantined;
  const accepted = counts.samples.clean > 0 ? 1 : 0;
  counts.messages.accepted = accepted;
  counts.messages.quarantined = 1 - accepted;
  return run.result;
}

/** Topic ↔ payload asset, registration (incl. its site) and model; quarantines the message when one fails. */
function resolveAsset(
  run: Run,
  topic: ParsedTopic,
  assetId: string,
  ctx: CleaningContext,
): AssetContext | undefined {
  if (assetId !== topic.assetId) {
    messageFault(
      run,
      'topic_asset_mismatch',
      `payload assetId ${quote(assetId)} differs from topic assetId ${quote(topic.assetId)}`,
    );
    return undefined;
  }
  let info: AssetInfo | undefined;
  try {
    info = ctx.lookupAsset(assetId);
  } catch (err) {
    messageFault(run, 'unknown_asset', `asset lookup for ${quote(assetId)} failed: ${errorText(err)}`);
    return undefined;
  }
  if (info === undefined || info === null) {
    messageFault(run, 'unknown_asset', `asset ${quote(assetId)} is not registered`);
    return undefined;
  }
  if (info.siteId !== topic.siteId) {
    // The (site, asset) pair of the topic names a registration that does not exist.
    messageFault(
      run,
      'unknown_asset',
      `asset ${quote(assetId)} is registered at site ${quote(info.siteId)}, not at site ${quote(topic.siteId)} of the topic`,
    );
    return undefined;
  }
  const model = findAssetModel(info.modelId);
  if (model === undefined) {
    messageFault(
      run,
      'unknown_asset_model',
      `asset ${quote(assetId)} has model ${quote(info.modelId)}, which is not in the catalog`,
    );
    return undefined;
  }
  const limits = ctx.limits;
  return {
    info,
    model,
    index: indexModel(model),
    notAfter: run.receivedAt + (limits?.maxFutureSkewMs ?? DEFAULT_CLEANING_LIMITS.maxFutureSkewMs),
    notBefore: run.receivedAt - (limits?.maxAgeMs ?? DEFAULT_CLEANING_LIMITS.maxAgeMs),
  };
}

/**
 * Checks one sample; pushes it to the clean samples or records why not. For the single-sample form,
 * `raw` is the message itself, whose fields were already checked against the envelope.
 */
function cleanSample(
  run: Run,
  asset: AssetContext,
  raw: unknown,
  index: number,
  single: boolean,
  tracker: SeqTracker | undefined,
): void {
  if (!isPlainObject(raw)) {
    sampleFault(
      run,
      raw,
      index,
      single,
      'invalid_sample',
      `sample is ${describe(raw)}, expected an object`,
      undefined,
      0,
    );
    return;
  }
  const readings = raw.readings;
  const n = isPlainObject(readings) ? countReadings(readings) : 0;
  run.result.counts.readings.received += n;
  if (!single) {
    for (const key in raw) {
      if (!SAMPLE_KEYS.has(key)) {
        sampleFault(
          run,
          raw,
          index,
          single,
          'invalid_sample',
          `unexpected field ${quote(key)} in a sample`,
          undefined,
          n,
        );
        return;
      }
    }
  }
  const seqRaw = raw.seq;
  if (
    typeof seqRaw !== 'number' ||
    !Number.isInteger(seqRaw) ||
    seqRaw < 0 ||
    seqRaw > Number.MAX_SAFE_INTEGER
  ) {
    const what =
      seqRaw === undefined ? 'seq is missing' : `seq=${show(seqRaw)} is not an integer from 0 to 2^53-1`;
    sampleFault(run, raw, index, single, 'invalid_sample', what, undefined, n);
    return;
  }
  const seq = seqRaw;
  if (!isPlainObject(readings)) {
    const what =
      readings === undefined
        ? 'readings is missing'
        : `readings is ${describe(readings)}, expected an object of sensor → number`;
    sampleFault(run, raw, index, single, 'invalid_sample', what, seq, n);
    return;
  }
  if (n > MAX_READINGS_PER_SAMPLE) {
    sampleFault(
      run,
      raw,
      index,
      single,
      'invalid_sample',
      `sample has ${n} readings, over the limit of ${MAX_READINGS_PER_SAMPLE}`,
      seq,
      n,
    );
    return;
  }
  const component = raw.component;
  if (component !== undefined && !IdSchema.safeParse(component).success) {
    sampleFault(
      run,
      raw,
      index,
      single,
      'invalid_sample',
      `component ${show(component)} is not a valid identifier`,
      seq,
      n,
    );
    return;
  }
  const tsRaw = raw.ts;
  if (tsRaw === undefined) {
    sampleFault(run, raw, index, single, 'invalid_sample', 'ts is missing', seq, n);
    return;
  }
  const ts = parseTimestamp(tsRaw);
  if (Number.isNaN(ts)) {
    sampleFault(run, raw, index, single, 'invalid_timestamp', timestampProblem(tsRaw), seq, n);
    return;
  }
  if (ts > asset.notAfter) {
    const ahead = ts - run.receivedAt;
    sampleFault(
      run,
      raw,
      index,
      single,
      'future_timestamp',
      `ts ${iso(ts)} is ${ahead} ms after receipt (${iso(run.receivedAt)})`,
      seq,
      n,
    );
    return;
  }
  if (ts < asset.notBefore) {
    const age = run.receivedAt - ts;
    sampleFault(
      run,
      raw,
      index,
      single,
      'stale_timestamp',
      `ts ${iso(ts)} is ${age} ms before receipt (${iso(run.receivedAt)})`,
      seq,
      n,
    );
    return;
  }
  if (tracker !== undefined && !claimSeq(tracker, seq)) {
    sampleFault(
      run,
      raw,
      index,
      single,
      'duplicate_seq',
      `seq ${seq} appears earlier in the same message`,
      seq,
      n,
    );
    return;
  }
  if (component !== undefined && !asset.index.components.has(component as string)) {
    sampleFault(
      run,
      raw,
      index,
      single,
      'unknown_component',
      `component ${quote(component as string)} is not part of model ${asset.model.id}`,
      seq,
      n,
    );
    return;
  }

  // Readings: only rebuild the object when one of them is quarantined.
  const sensors = asset.index.sensors;
  let kept: Record<string, number> | undefined;
  let keptCount = 0;
  let sampleText: string | undefined;
  for (const name in readings) {
    const value = readings[name];
    const spec = sensors.get(name);
    let reason: ReasonCode | undefined;
    let detail = '';
    if (spec === undefined) {
      reason = 'unknown_sensor';
      detail = `sensor ${quote(name)} is not part of model ${asset.model.id}`;
    } else if (typeof value !== 'number') {
      reason = 'non_numeric';
      detail = `${name}=${show(value)} is ${describe(value)}, not a number`;
    } else if (!Number.isFinite(value)) {
      reason = 'non_finite';
      detail = `${name}=${value} is not finite (a JSON number beyond the double range parses to Infinity; payload shows it as null)`;
    } else if (value < spec.min || value > spec.max) {
      reason = 'out_of_range';
      detail = `${name}=${value} outside [${spec.min}, ${spec.max}] ${spec.unit}`;
    }
    if (reason === undefined) {
      keptCount++;
      if (kept !== undefined) kept[name] = value as number;
      continue;
    }
    if (kept === undefined) {
      // Everything before this reading was clean: copy it.
      kept = {};
      for (const earlier in readings) {
        if (earlier === name) break;
        kept[earlier] = readings[earlier] as number;
      }
    }
    if (sampleText === undefined) sampleText = serialiseSample(raw, single);
    run.result.counts.readings.quarantined++;
    pushRecord(
      run,
      reason,
      sampleText ?? run.text,
      detail + unserialisableNote(sampleText),
      seq,
      index,
      name,
    );
  }

  if (keptCount === 0) {
    const detail = n === 0 ? 'sample has no readings' : `all ${n} readings of the sample were quarantined`;
    if (sampleText === undefined) sampleText = serialiseSample(raw, single);
    pushRecord(
      run,
      'no_valid_readings',
      sampleText ?? run.text,
      detail + unserialisableNote(sampleText),
      seq,
      index,
      undefined,
    );
    return;
  }
  const info = asset.info;
  const clean: {
    -readonly [K in keyof CleanSample]: CleanSample[K];
  } = {
    assetId: info.assetId,
    siteId: info.siteId,
    modelId: info.modelId,
    ts,
    seq,
    readings: kept ?? (readings as Record<string, number>),
    receivedAt: run.receivedAt,
    messageId: run.messageId,
  };
  if (component !== undefined) clean.component = component as string;
  run.result.samples.push(clean);
}

function cleanMaintenance(
  run: Run,
  topic: ParsedTopic,
  msg: Record<string, unknown>,
  ctx: CleaningContext,
): CleanResult {
  // Rare and small: the contract's own schema is fast enough here.
  const parsed = MaintenanceMessageSchema.safeParse(msg);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return messageFault(
      run,
      'invalid_envelope',
      `not a valid maintenance message: ${where}${issue?.message ?? 'invalid'}`,
    );
  }
  const event = parsed.data;
  const asset = resolveAsset(run, topic, event.assetId, ctx);
  if (asset === undefined) return run.result;
  const ts = toEpochMs(event.ts);
  if (Number.isNaN(ts)) return messageFault(run, 'invalid_envelope', timestampProblem(event.ts));
  if (ts > asset.notAfter) {
    return messageFault(
      run,
      'future_timestamp',
      `maintenance ts ${iso(ts)} is ${ts - run.receivedAt} ms after receipt (${iso(run.receivedAt)})`,
    );
  }
  if (event.component !== undefined && !asset.index.components.has(event.component)) {
    return messageFault(
      run,
      'unknown_component',
      `component ${quote(event.component)} is not part of model ${asset.model.id}`,
    );
  }
  const info = asset.info;
  const out: { -readonly [K in keyof MaintenanceEvent]: MaintenanceEvent[K] } = {
    assetId: info.assetId,
    siteId: info.siteId,
    modelId: info.modelId,
    ts,
    kind: event.kind,
    receivedAt: run.receivedAt,
  };
  if (event.component !== undefined) out.component = event.component;
  run.result.maintenance.push(out);
  run.result.counts.messages.accepted = 1;
  run.result.counts.messages.quarantined = 0;
  return run.result;
}

/**
 * A `pdm.event.v1` message: the envelope decides for the whole message; then each event is checked on
 * its own, so one bad event quarantines that event and the message's other events go on (as samples do).
 * Events are far rarer than samples, so each is checked with the contract's zod schema.
 */
function cleanEvents(
  run: Run,
  topic: ParsedTopic,
  msg: Record<string, unknown>,
  ctx: CleaningContext,
): CleanResult {
  if (!IdSchema.safeParse(msg.assetId).success) {
    return messageFault(
      run,
      'invalid_envelope',
      `assetId ${show(msg.assetId)} is not 1–128 characters of A–Z a–z 0–9 _ - :`,
    );
  }
  const single = msg.events === undefined;
  let items: unknown[];
  if (single) {
    for (const key in msg) {
      if (key !== 'schema' && key !== 'assetId' && !EVENT_KEYS.has(key)) {
        return messageFault(run, 'invalid_envelope', `unexpected field ${quote(key)} in a single-event message`);
      }
    }
    if (msg.ts === undefined && msg.seq === undefined && msg.code === undefined) {
      return messageFault(
        run,
        'invalid_envelope',
        'an events message needs either an events array or ts, seq, code and severity at the top level',
      );
    }
    const { schema: _schema, assetId: _assetId, ...event } = msg;
    items = [event];
  } else {
    for (const key in msg) {
      if (!EVENT_BATCH_KEYS.has(key)) {
        return messageFault(run, 'invalid_envelope', `unexpected field ${quote(key)} in a batch events message`);
      }
    }
    if (!Array.isArray(msg.events)) {
      return messageFault(run, 'invalid_envelope', `events is ${describe(msg.events)}, expected an array`);
    }
    if (msg.events.length > MAX_EVENTS_PER_MESSAGE) {
      return messageFault(
        run,
        'invalid_envelope',
        `events holds ${msg.events.length} events, over the limit of ${MAX_EVENTS_PER_MESSAGE}`,
      );
    }
    items = msg.events;
  }
  const counts = run.result.counts;
  const tally = counts.events!;
  tally.received = items.length;
  const asset = resolveAsset(run, topic, msg.assetId as string, ctx);
  if (asset === undefined) return run.result;
  if (items.length === 0) return messageFault(run, 'empty_batch', 'events is empty: the message carries no events');

  const tracker: SeqTracker | undefined = items.length > 1 ? { max: -1, claimed: [], set: undefined } : undefined;
  const known = asset.model.events ?? {};
  for (let i = 0; i < items.length; i++) {
    const raw = items[i];
    const fault = (reason: ReasonCode, detail: string, seq?: number) => {
      let text: string | undefined;
      try {
        text = JSON.stringify(raw);
      } catch {
        text = undefined;
      }
      pushRecord(run, reason, text ?? run.text, detail + unserialisableNote(text), seq, i, undefined, 'event');
    };
    const parsed = DeviceEventSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue?.path.join('.') ?? '';
      const rawTs = isPlainObject(raw) ? raw.ts : undefined;
      if (path === 'ts' && rawTs !== undefined) fault('invalid_timestamp', timestampProblem(rawTs));
      else fault('invalid_event', `not a valid event: ${path ? `${path}: ` : ''}${issue?.message ?? 'invalid'}`);
      continue;
    }
    const event = parsed.data;
    const ts = toEpochMs(event.ts);
    if (Number.isNaN(ts)) {
      fault('invalid_timestamp', timestampProblem(event.ts), event.seq);
      continue;
    }
    if (ts > asset.notAfter) {
      fault('future_timestamp', `ts ${iso(ts)} is ${ts - run.receivedAt} ms after receipt (${iso(run.receivedAt)})`, event.seq);
      continue;
    }
    if (ts < asset.notBefore) {
      fault('stale_timestamp', `ts ${iso(ts)} is ${run.receivedAt - ts} ms before receipt (${iso(run.receivedAt)})`, event.seq);
      continue;
    }
    if (tracker !== undefined && !claimSeq(tracker, event.seq)) {
      fault('duplicate_seq', `event seq ${event.seq} appears earlier in the same message`, event.seq);
      continue;
    }
    if (event.component !== undefined && !asset.index.components.has(event.component)) {
      fault('unknown_component', `component ${quote(event.component)} is not part of model ${asset.model.id}`, event.seq);
      continue;
    }
    const info = asset.info;
    const clean: { -readonly [K in keyof CleanEvent]: CleanEvent[K] } = {
      assetId: info.assetId,
      siteId: info.siteId,
      modelId: info.modelId,
      ts,
      seq: event.seq,
      code: event.code,
      severity: event.severity,
      receivedAt: run.receivedAt,
      messageId: run.messageId,
    };
    // Own-property lookup: a code such as "constructor" must not find Object.prototype's.
    const catalogComponent = Object.hasOwn(known, event.code) ? known[event.code]?.component : undefined;
    const component = event.component ?? catalogComponent;
    if (component !== undefined) clean.component = component;
    if (event.message !== undefined) clean.message = event.message;
    run.result.events.push(clean);
  }
  tally.clean = run.result.events.length;
  tally.quarantined = tally.received - tally.clean;
  const accepted = tally.clean > 0 ? 1 : 0;
  counts.messages.accepted = accepted;
  counts.messages.quarantined = 1 - accepted;
  return run.result;
}

// ---------------------------------------------------------------------------------------------------
// Records and counts

function newRun(input: RawMessage, topic: ParsedTopic | undefined): Run {
  return {
    messageId: input.messageId,
    topic: input.topic,
    receivedAt: input.receivedAt,
    siteId: topic?.siteId,
    assetId: topic?.assetId,
    text: '',
    carried: undefined,
    result: {
      kind: topic?.kind ?? 'unknown',
      samples: [],
      maintenance: [],
      events: [],
      quarantine: [],
      counts: {
        messages: { received: 1, accepted: 0, quarantined: 1 },
        samples: { received: 0, clean: 0, quarantined: 0 },
        readings: { received: 0, clean: 0, quarantined: 0 },
        ...(topic?.kind === 'events' ? { events: { received: 0, clean: 0, quarantined: 0 } } : {}),
      },
    },
  };
}

/** Quarantines the whole message once; whatever samples and readings were counted are all quarantined. */
function messageFault(run: Run, reason: ReasonCode, detail: string): CleanResult {
  const result = run.result;
  const counts = result.counts;
  result.samples.length = 0;
  result.maintenance.length = 0;
  result.events.length = 0;
  if (counts.events !== undefined) {
    counts.events.clean = 0;
    counts.events.quarantined = counts.events.received;
  }
  counts.samples.clean = 0;
  counts.samples.quarantined = counts.samples.received;
  if (run.carried !== undefined) {
    let readings = 0;
    for (const sample of run.carried) readings += isPlainObject(sample) ? countReadings(sample.readings) : 0;
    counts.readings.received = readings;
  }
  counts.readings.clean = 0;
  counts.readings.quarantined = counts.readings.received;
  counts.messages.accepted = 0;
  counts.messages.quarantined = 1;
  pushRecord(run, reason, run.text, detail, undefined, undefined, undefined);
  return result;
}

function sampleFault(
  run: Run,
  raw: unknown,
  index: number,
  single: boolean,
  reason: ReasonCode,
  detail: string,
  seq: number | undefined,
  readings: number,
): void {
  run.result.counts.readings.quarantined += readings;
  const text = serialiseSample(raw, single);
  pushRecord(run, reason, text ?? run.text, detail + unserialisableNote(text), seq, index, undefined);
}

function pushRecord(
  run: Run,
  reason: ReasonCode,
  payload: string,
  detail: string,
  seq: number | undefined,
  sampleIndex: number | undefined,
  sensor: string | undefined,
  level: QuarantineRecord['level'] = REASONS[reason],
): void {
  const rec: MutableRecord = {
    reason,
    level,
    detail,
    messageId: run.messageId,
    topic: run.topic,
    receivedAt: run.receivedAt,
    payload,
  };
  if (run.assetId !== undefined) rec.assetId = run.assetId;
  if (run.siteId !== undefined) rec.siteId = run.siteId;
  if (seq !== undefined) rec.seq = seq;
  if (sampleIndex !== undefined) rec.sampleIndex = sampleIndex;
  if (sensor !== undefined) rec.sensor = sensor;
  run.result.quarantine.push(rec);
}

function internalFailure(input: RawMessage, err: unknown): CleanResult {
  const safe = (read: () => unknown): unknown => {
    try {
      return read();
    } catch {
      return undefined;
    }
  };
  const topic = safe(() => input.topic);
  const messageId = safe(() => input.messageId);
  const receivedAt = safe(() => input.receivedAt);
  const payload = safe(() => input.payload);
  return {
    kind: 'unknown',
    samples: [],
    maintenance: [],
    events: [],
    quarantine: [
      {
        reason: 'invalid_envelope',
        level: REASONS.invalid_envelope,
        detail: `cleaning failed unexpectedly (${errorText(err)}); the message is quarantined whole`,
        messageId: typeof messageId === 'string' ? messageId : '',
        topic: typeof topic === 'string' ? topic : '',
        receivedAt: typeof receivedAt === 'number' ? receivedAt : 0,
        payload:
          typeof payload === 'string'
            ? payload
            : payload instanceof Uint8Array
              ? (decodeUtf8(payload) ?? base64(payload))
              : '',
      },
    ],
    counts: {
      messages: { received: 1, accepted: 0, quarantined: 1 },
      samples: { received: 0, clean: 0, quarantined: 0 },
      readings: { received: 0, clean: 0, quarantined: 0 },
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function countReadings(readings: unknown): number {
  if (!isPlainObject(readings)) return 0;
  let n = 0;
  for (const _ in readings) n++;
  return n;
}

function claimSeq(tracker: SeqTracker, seq: number): boolean {
  if (seq > tracker.max) {
    tracker.max = seq;
    tracker.claimed.push(seq);
    tracker.set?.add(seq);
    return true;
  }
  if (tracker.set === undefined) tracker.set = new Set(tracker.claimed);
  if (tracker.set.has(seq)) return false;
  tracker.set.add(seq);
  return true;
}

/** Epoch ms, or NaN when `ts` is not a timestamp of the contract. */
function parseTimestamp(ts: unknown): number {
  if (typeof ts === 'number') {
    return Number.isInteger(ts) && ts >= MIN_EPOCH_MS && ts <= MAX_EPOCH_MS ? ts : Number.NaN;
  }
  if (typeof ts === 'string' && IsoDateTimeSchema.safeParse(ts).success) return Date.parse(ts);
  return Number.NaN;
}

function timestampProblem(ts: unknown): string {
  if (typeof ts === 'number') {
    if (Number.isInteger(ts) && ts >= MIN_EPOCH_MS / 1000 && ts <= MAX_EPOCH_MS / 1000) {
      return `ts=${ts} looks like epoch seconds; epoch milliseconds are expected`;
    }
    return `ts=${ts} is not an integer epoch-millisecond time between 2000 and 2100`;
  }
  if (typeof ts === 'string') {
    return `ts=${quote(ts)} is not an ISO-8601 date-time with seconds and a Z or ±hh:mm offset`;
  }
  return `ts is ${describe(ts)}, expected an ISO-8601 string or epoch milliseconds`;
}

/** The sample as sent, re-serialised; undefined when it cannot be (nesting beyond the stack). */
function serialiseSample(raw: unknown, single: boolean): string | undefined {
  try {
    if (single && isPlainObject(raw)) {
      const sample: Record<string, unknown> = { ts: raw.ts, seq: raw.seq, readings: raw.readings };
      if (raw.component !== undefined) sample.component = raw.component;
      return JSON.stringify(sample);
    }
    return JSON.stringify(raw) ?? String(raw);
  } catch {
    return undefined;
  }
}

function unserialisableNote(text: string | undefined): string {
  return text === undefined
    ? ' (the sample is nested too deeply to re-serialise; payload holds the whole message)'
    : '';
}

function fitsUtf8(s: string, maxBytes: number): boolean {
  // Each UTF-16 unit is 1 to 3 UTF-8 bytes: only count when the cheap bounds cannot decide.
  if (s.length > maxBytes) return false;
  if (s.length * 3 <= maxBytes) return true;
  return utf8Length(s) <= maxBytes;
}

function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

function isWellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    case 'undefined':
      return 'missing';
    default:
      return `a ${typeof value}`;
  }
}

/** A short rendering of a JSON value for a detail sentence. */
function show(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? '[…]' : '{…}';
}

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

function errorText(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'unprintable error';
  }
}
