import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CleanResult,
  cleanMessage,
  type RawMessage,
  REASONS,
} from '../../../lambdas/core/cleaning/index.ts';
import { LenientEnvelopeSchema, LenientSampleSchema } from '../../../lambdas/core/contract/telemetry.ts';
import {
  ctx,
  ONE_MINUTE_AGO,
  PUMP_MAINTENANCE_TOPIC,
  PUMP_TOPIC,
  pumpReadings,
  RECEIVED_AT,
} from './fixtures.ts';

/** Raise with CLEANING_PROPERTY_RUNS for a longer search; the default keeps the file at about a second. */
const RUNS = Number(process.env.CLEANING_PROPERTY_RUNS ?? 1000);

/** Checks the accounting invariants and the exactly-once rule; returns the result for further checks. */
function assertInvariants(result: CleanResult): CleanResult {
  const { counts, quarantine } = result;
  expect(counts.messages.received).toBe(1);
  expect(counts.messages.accepted + counts.messages.quarantined).toBe(1);
  expect(counts.samples.clean + counts.samples.quarantined).toBe(counts.samples.received);
  expect(counts.readings.clean + counts.readings.quarantined).toBe(counts.readings.received);
  expect(counts.samples.clean).toBe(result.samples.length);
  for (const record of quarantine) {
    expect(record.level).toBe(REASONS[record.reason]);
    expect(typeof record.payload).toBe('string');
    expect(record.detail.length).toBeGreaterThan(0);
  }

  if (result.kind === 'maintenance' || result.maintenance.length > 0) {
    expect(counts.messages.accepted).toBe(result.maintenance.length);
    expect(quarantine).toHaveLength(1 - result.maintenance.length);
    return result;
  }
  expect(result.maintenance).toEqual([]);
  expect(counts.messages.accepted).toBe(result.samples.length > 0 ? 1 : 0);

  const messageLevel = quarantine.filter((r) => r.level === 'message');
  const sampleLevel = quarantine.filter((r) => r.level === 'sample');
  const readingLevel = quarantine.filter((r) => r.level === 'reading');
  if (messageLevel.length > 0) {
    // Quarantined once, as a whole: nothing else is reported or kept.
    expect(quarantine).toHaveLength(1);
    expect(result.samples).toEqual([]);
    expect(counts.samples.quarantined).toBe(counts.samples.received);
    expect(counts.readings.quarantined).toBe(counts.readings.received);
    return result;
  }
  // Each received sample is either clean or has exactly one sample-level record.
  const indices = sampleLevel.map((r) => r.sampleIndex);
  expect(new Set(indices).size).toBe(indices.length);
  for (const i of indices) expect(i).toBeLessThan(counts.samples.received);
  expect(sampleLevel).toHaveLength(counts.samples.quarantined);
  // Clean readings are exactly those the clean samples carry, all finite numbers.
  let kept = 0;
  for (const sample of result.samples) {
    for (const value of Object.values(sample.readings)) {
      expect(Number.isFinite(value)).toBe(true);
      kept++;
    }
  }
  expect(kept).toBe(counts.readings.clean);
  expect(readingLevel.length).toBeLessThanOrEqual(counts.readings.quarantined);
  return result;
}

function run(topic: string, payload: string | Uint8Array): CleanResult {
  const input: RawMessage = { topic, payload, messageId: 'p', receivedAt: RECEIVED_AT };
  let result: CleanResult | undefined;
  expect(() => {
    result = cleanMessage(input, ctx);
  }).not.toThrow();
  return assertInvariants(result!);
}

const SENSORS = Object.keys(pumpReadings());
const topicArb = fc.oneof(
  fc.constant(PUMP_TOPIC),
  fc.constant(PUMP_MAINTENANCE_TOPIC),
  fc.constant('pdm/site-b/pump-1/telemetry'),
  fc.constant('pdm/site-a/engine-7/telemetry'),
  fc.string(),
);
const hostileValue = fc.oneof(
  fc.double(),
  fc.double({ min: -10, max: 600, noNaN: true }),
  fc.integer(),
  fc.constantFrom('NaN', 'Infinity', '12', '', '\u0000', '💥'),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
);
const tsArb = fc.oneof(
  fc.integer({ min: RECEIVED_AT - 10 * 86_400_000, max: RECEIVED_AT + 600_000 }),
  fc
    .date({ min: new Date('1999-01-01'), max: new Date('2101-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom('2024-05-01T13:59:00+02:00', '2024-02-30T00:00:00Z', '2024-05-01', 1_714_564_000, -1, 1.5),
  fc.jsonValue({ maxDepth: 1 }),
);
const seqArb = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constantFrom(-1, 1.5, '3', null, 2 ** 60));
const readingsArb = fc.oneof(
  fc.dictionary(fc.oneof(fc.constantFrom(...SENSORS), fc.string({ maxLength: 12 })), hostileValue, {
    maxKeys: 8,
  }),
  fc.jsonValue({ maxDepth: 2 }),
);
const sampleArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      { ts: tsArb, seq: seqArb, readings: readingsArb },
      { requiredKeys: ['seq', 'readings'] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        ts: tsArb,
        seq: seqArb,
        readings: readingsArb,
        component: fc.jsonValue({ maxDepth: 0 }),
        extra: fc.integer(),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
const assetIdArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('pump-1') },
  { weight: 1, arbitrary: fc.constantFrom('engine-7', 'ghost-1', 'explode', 'pump 1') },
  { weight: 1, arbitrary: fc.string({ maxLength: 5 }) },
);
const envelopeArb = fc.oneof(
  fc.record({
    schema: fc.constant('pdm.telemetry.v1'),
    assetId: assetIdArb,
    samples: fc.array(sampleArb, { maxLength: 6 }),
  }),
  fc
    .tuple(fc.constantFrom('pdm.telemetry.v1', 'pdm.maintenance.v1', 'v0'), assetIdArb, sampleArb)
    .map(([schema, assetId, sample]) =>
      typeof sample === 'object' && sample !== null && !Array.isArray(sample)
        ? { schema, assetId, ...sample }
        : { schema, assetId },
    ),
  fc.record(
    {
      schema: fc.constant('pdm.maintenance.v1'),
      assetId: assetIdArb,
      ts: tsArb,
      kind: fc.constantFrom('inspection', 'repair', 'replacement', 'polish'),
      component: fc.constantFrom('seal', 'bearing', 'gearbox'),
    },
    { requiredKeys: ['schema', 'assetId', 'ts', 'kind'] },
  ),
);

/** Damages the text of a message: the kind of corruption a flaky link or a buggy firmware produces. */
const mutate = (text: string, at: number, op: number, junk: string): string => {
  const i = text.length === 0 ? 0 : at % text.length;
  switch (op) {
    case 0:
      return text.slice(0, i);
    case 1:
      return text.slice(0, i) + junk + text.slice(i);
    case 2:
      return text.slice(0, i) + text.slice(i + 1);
    default:
      return text.replace(/-?\d+(\.\d+)?/, '1e400');
  }
};

describe('cleanMessage properties', () => {
  it('keeps the accounting invariants for random bytes', () => {
    fc.assert(
      fc.property(topicArb, fc.uint8Array({ maxLength: 300 }), (topic, bytes) => {
        run(topic, bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the accounting invariants for random strings, including unpaired surrogates', () => {
    const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(topicArb, fc.oneof(fc.string({ unit: anyUnit }), fc.json()), (topic, text) => {
        run(topic, text);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the accounting invariants for structured and mutated messages', () => {
    fc.assert(
      fc.property(
        fc.oneof({ weight: 4, arbitrary: fc.constant(PUMP_TOPIC) }, { weight: 1, arbitrary: topicArb }),
        envelopeArb,
        fc.option(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.string({ maxLength: 4 })), { freq: 3 }),
        (topic, body, mutation) => {
          const text = JSON.stringify(body);
          run(topic, mutation === null ? text : mutate(text, ...mutation));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('keeps the accounting invariants for deeply nested and huge payloads', () => {
    const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
    const nested = `{"schema":"pdm.telemetry.v1","assetId":"pump-1","samples":[{"ts":${ONE_MINUTE_AGO},"seq":1,"readings":{"flow":${deep(60_000)}}}]}`;
    run(PUMP_TOPIC, nested);
    run(PUMP_TOPIC, deep(100_000));
    run(
      PUMP_TOPIC,
      `{"schema":"pdm.telemetry.v1","assetId":"pump-1","ts":${ONE_MINUTE_AGO},"seq":1,"readings":{"flow":-1e400,"rpm":1e-400}}`,
    );
    run(PUMP_TOPIC, 'x'.repeat(200_000));
    run(PUMP_TOPIC, new Uint8Array(200_000).fill(0xff));

    const result = run(PUMP_TOPIC, nested);
    expect(result.quarantine.map((r) => r.reason)).toEqual(['non_numeric', 'no_valid_readings']);
    expect(result.quarantine[0]!.detail).toContain('whole message');
  });

  it('accepts every sample of a well-formed message in full', () => {
    const value = fc.double({ min: 0, max: 40, noNaN: true });
    const sample = fc.record({
      ts: fc.integer({ min: RECEIVED_AT - 86_400_000, max: RECEIVED_AT }),
      readings: fc.record({ vibration: value, pressure: value, flow: value }, { requiredKeys: ['flow'] }),
    });
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 20 }), (samples) => {
        const body = {
          schema: 'pdm.telemetry.v1',
          assetId: 'pump-1',
          samples: samples.map((s, seq) => ({ ...s, seq })),
        };

        const result = run(PUMP_TOPIC, JSON.stringify(body));

        expect(result.quarantine).toEqual([]);
        expect(result.samples.map((s) => s.readings)).toEqual(samples.map((s) => s.readings));
      }),
      { numRuns: 200 },
    );
  });

  it('accepts the same samples and envelopes as the contract schemas', () => {
    // A hand check replaces zod on the hot path: it must agree with the published contract.
    const wide = {
      ...ctx,
      limits: { maxAgeMs: Number.MAX_SAFE_INTEGER, maxFutureSkewMs: Number.MAX_SAFE_INTEGER },
    };
    fc.assert(
      fc.property(envelopeArb, (body) => {
        const text = JSON.stringify(body);
        const parsed: unknown = JSON.parse(text);
        const result = cleanMessage(
          { topic: PUMP_TOPIC, payload: text, messageId: 'p', receivedAt: RECEIVED_AT },
          wide,
        );
        const reasons = result.quarantine.map((r) => r.reason);
        if (reasons.includes('unsupported_schema')) return;

        // An empty batch is judged later (empty_batch), so the envelope is compared as if it held one sample.
        const asBatch = parsed as { samples?: unknown };
        const probe =
          Array.isArray(asBatch.samples) && asBatch.samples.length === 0
            ? { ...asBatch, samples: [0] }
            : parsed;
        const envelopeOk = LenientEnvelopeSchema.safeParse(probe).success;
        expect(reasons.includes('invalid_envelope')).toBe(!envelopeOk);
        if (!envelopeOk || result.quarantine.some((r) => r.level === 'message')) return;

        const record = parsed as Record<string, unknown>;
        const samples = Array.isArray(record.samples)
          ? (record.samples as unknown[])
          : [{ ts: record.ts, seq: record.seq, readings: record.readings, component: record.component }];
        samples.forEach((sample, i) => {
          const rejected = result.quarantine.some(
            (r) => r.sampleIndex === i && (r.reason === 'invalid_sample' || r.reason === 'invalid_timestamp'),
          );
          expect(rejected).toBe(!LenientSampleSchema.safeParse(sample).success);
        });
      }),
      { numRuns: RUNS },
    );
  });
});
