/**
 * Device → cloud contracts: `pdm.telemetry.v1`, `pdm.maintenance.v1` and `pdm.event.v1`.
 *
 * One zod definition per contract is the single source of truth: runtime validation uses it, and
 * `schemas/*.schema.json` are generated from it (`pdm schema --write`), so the published JSON Schema
 * cannot drift from what the pipeline enforces.
 */
import { z } from 'zod';

export const TELEMETRY_SCHEMA = 'pdm.telemetry.v1';
export const MAINTENANCE_SCHEMA = 'pdm.maintenance.v1';
export const EVENT_SCHEMA = 'pdm.event.v1';

/** AWS IoT Core's payload limit. Larger messages never reach the rule; we enforce it again for local input. */
export const MAX_MESSAGE_BYTES = 128 * 1024;
/** Upper bound on samples per message: keeps one message's work bounded (128 KB holds ~1,000 tiny samples). */
export const MAX_SAMPLES_PER_MESSAGE = 1000;
/** Upper bound on sensors per sample. */
export const MAX_READINGS_PER_SAMPLE = 64;

/**
 * Identifiers travel in MQTT topics, IoT thing names, DynamoDB keys and Timestream dimensions, so they
 * use the IoT thing-name alphabet: letters, digits, `_`, `-`, `:`; 1–128 characters.
 */
export const IdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_:-]{1,128}$/, 'must be 1–128 characters of A–Z a–z 0–9 _ - :');

/** Epoch milliseconds from 2000-01-01 to 2100-01-01: catches seconds-vs-ms mistakes at the contract. */
export const MIN_EPOCH_MS = 946_684_800_000;
export const MAX_EPOCH_MS = 4_102_444_800_000;

export const TimestampSchema = z.union([
  z.iso.datetime({ offset: true, precision: undefined }).describe('ISO-8601 date-time with Z or offset'),
  z
    .number()
    .int()
    .min(MIN_EPOCH_MS, 'epoch milliseconds expected (is this seconds?)')
    .max(MAX_EPOCH_MS)
    .describe('epoch milliseconds'),
]);

export const SeqSchema = z
  .number()
  .int()
  .min(0)
  .max(Number.MAX_SAFE_INTEGER)
  .describe('per-asset increasing integer: dedupe and idempotency key');

export const SensorNameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'sensor names are identifiers');

export const ReadingsSchema = z
  .record(SensorNameSchema, z.number())
  .describe('sensor name → value, in the unit of the asset model catalog');

export const SampleSchema = z.strictObject({
  ts: TimestampSchema,
  seq: SeqSchema,
  readings: ReadingsSchema,
  component: IdSchema.optional().describe('component the readings belong to, when not the whole asset'),
});

export const BatchTelemetrySchema = z.strictObject({
  schema: z.literal(TELEMETRY_SCHEMA),
  assetId: IdSchema,
  samples: z.array(SampleSchema).min(1).max(MAX_SAMPLES_PER_MESSAGE),
});

export const SingleTelemetrySchema = z.strictObject({
  schema: z.literal(TELEMETRY_SCHEMA),
  assetId: IdSchema,
  ...SampleSchema.shape,
});

export const TelemetryMessageSchema = z
  .union([BatchTelemetrySchema, SingleTelemetrySchema])
  .describe('pdm.telemetry.v1: a batch of samples, or one sample at the top level');

export const MAINTENANCE_KINDS = ['inspection', 'repair', 'replacement'] as const;

export const MaintenanceMessageSchema = z
  .strictObject({
    schema: z.literal(MAINTENANCE_SCHEMA),
    assetId: IdSchema,
    ts: TimestampSchema,
    kind: z.enum(MAINTENANCE_KINDS),
    component: IdSchema.optional().describe('omitted: the whole asset'),
    note: z.string().max(1024).optional(),
  })
  .describe('pdm.maintenance.v1: an inspection, repair or replacement, of one component or the whole asset');

/** Severities of device events, least to most severe. */
export const EVENT_SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
/** Upper bound on events per message: as for samples, it keeps one message's work bounded. */
export const MAX_EVENTS_PER_MESSAGE = 1000;
export const MAX_EVENT_MESSAGE_CHARS = 1024;

/**
 * Event codes as the device's firmware names them (`error1`, `E-1043`, `bearing.overtemp`). Codes the
 * asset model catalog does not list are valid: they are kept and counted as "other".
 */
export const EventCodeSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'must be 1–64 characters of A–Z a–z 0–9 _ . : -, starting with a letter or digit');

export const DeviceEventSchema = z.strictObject({
  ts: TimestampSchema,
  seq: SeqSchema.describe('per-asset increasing integer of the event log (its own sequence): dedupe key'),
  code: EventCodeSchema.describe('error or alarm code'),
  severity: z.enum(EVENT_SEVERITIES),
  component: IdSchema.optional().describe('component the event concerns; omitted: the asset or unknown'),
  message: z.string().max(MAX_EVENT_MESSAGE_CHARS).optional().describe('free text for operators'),
});

export const BatchEventSchema = z.strictObject({
  schema: z.literal(EVENT_SCHEMA),
  assetId: IdSchema,
  events: z.array(DeviceEventSchema).min(1).max(MAX_EVENTS_PER_MESSAGE),
});

export const SingleEventSchema = z.strictObject({
  schema: z.literal(EVENT_SCHEMA),
  assetId: IdSchema,
  ...DeviceEventSchema.shape,
});

export const EventMessageSchema = z
  .union([BatchEventSchema, SingleEventSchema])
  .describe('pdm.event.v1: device error/alarm codes, a batch of events or one event at the top level');

export type Sample = z.infer<typeof SampleSchema>;
export type BatchTelemetry = z.infer<typeof BatchTelemetrySchema>;
export type SingleTelemetry = z.infer<typeof SingleTelemetrySchema>;
export type TelemetryMessage = z.infer<typeof TelemetryMessageSchema>;
export type MaintenanceMessage = z.infer<typeof MaintenanceMessageSchema>;
export type MaintenanceKind = (typeof MAINTENANCE_KINDS)[number];
export type DeviceEvent = z.infer<typeof DeviceEventSchema>;
export type EventMessage = z.infer<typeof EventMessageSchema>;
export type EventSeverity = (typeof EVENT_SEVERITIES)[number];

/**
 * Lenient forms used by cleaning: the envelope is checked strictly, but a sample's readings are kept
 * as unknown values so that one bad sensor value quarantines that reading, not the whole sample.
 */
export const LenientSampleSchema = SampleSchema.extend({
  readings: z.record(z.string(), z.unknown()),
});
export const LenientEnvelopeSchema = z.union([
  z.strictObject({
    schema: z.literal(TELEMETRY_SCHEMA),
    assetId: IdSchema,
    samples: z.array(z.unknown()).min(1).max(MAX_SAMPLES_PER_MESSAGE),
  }),
  z.strictObject({
    schema: z.literal(TELEMETRY_SCHEMA),
    assetId: IdSchema,
    ts: z.unknown(),
    seq: z.unknown(),
    readings: z.unknown(),
    component: z.unknown().optional(),
  }),
]);

/** Normalises an accepted timestamp to epoch ms; NaN when an ISO string does not denote a real instant. */
export function toEpochMs(ts: string | number): number {
  return typeof ts === 'number' ? ts : Date.parse(ts);
}

/** The device contracts as JSON Schema (draft 2020-12), generated from the zod definitions above. */
export function contractJsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of [
    [TELEMETRY_SCHEMA, TelemetryMessageSchema],
    [MAINTENANCE_SCHEMA, MaintenanceMessageSchema],
    [EVENT_SCHEMA, EventMessageSchema],
  ] as const) {
    out[name] = {
      $id: `https://pdm-twin.dev/schemas/${name}.schema.json`,
      title: name,
      ...z.toJSONSchema(schema, { target: 'draft-2020-12' }),
    };
  }
  return out;
}
