import { describe, expect, it } from 'vitest';
import { CENTRIFUGAL_PUMP, TURBOFAN } from '../../../lambdas/core/catalog/index.ts';
import {
  addCounts,
  type CleanResult,
  cleanMessage,
  emptyCounts,
  type QuarantineRecord,
  REASON_CODES,
  REASONS,
  type ReasonCode,
  screenSamples,
} from '../../../lambdas/core/cleaning/index.ts';
import type { CleanSample } from '../../../lambdas/core/types.ts';
import {
  batch,
  ctx,
  message,
  ONE_MINUTE_AGO,
  PUMP_MAINTENANCE_TOPIC,
  PUMP_TOPIC,
  pumpReadings,
  pumpSample,
  RECEIVED_AT,
  single,
} from './fixtures.ts';

function clean(body: unknown, topic = PUMP_TOPIC): CleanResult {
  return cleanMessage(message(body, topic), ctx);
}

function reasonsOf(result: { quarantine: QuarantineRecord[] }): ReasonCode[] {
  return result.quarantine.map((r) => r.reason);
}

function cleanSample(seq: number, readings: Record<string, number>): CleanSample {
  return {
    assetId: 'pump-1',
    siteId: 'site-a',
    modelId: 'centrifugal-pump',
    ts: ONE_MINUTE_AGO + seq,
    seq,
    readings,
    receivedAt: RECEIVED_AT,
  };
}

/** One concrete input per reason code; returns the quarantine records it produces. */
const REASON_CASES: Record<ReasonCode, () => QuarantineRecord[]> = {
  payload_too_large: () =>
    cleanMessage(message(single()), { ...ctx, limits: { maxMessageBytes: 64 } }).quarantine,
  invalid_encoding: () =>
    cleanMessage({ ...message(''), payload: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }, ctx).quarantine,
  invalid_json: () => clean('{"schema": "pdm.telemetry.v1",').quarantine,
  unsupported_schema: () => clean(single({ schema: 'pdm.telemetry.v2' })).quarantine,
  invalid_envelope: () => clean(single({ firmware: '1.2.3' })).quarantine,
  invalid_topic: () => clean(single(), 'pdm/site-a/pump-1/status').quarantine,
  topic_asset_mismatch: () => clean(single(), 'pdm/site-a/pump-2/telemetry').quarantine,
  unknown_asset: () => clean(single({ assetId: 'pump-9' }), 'pdm/site-a/pump-9/telemetry').quarantine,
  unknown_asset_model: () => clean(single({ assetId: 'ghost-1' }), 'pdm/site-a/ghost-1/telemetry').quarantine,
  empty_batch: () => clean(batch([])).quarantine,
  invalid_sample: () => clean(batch([pumpSample(1, { seq: -1 })])).quarantine,
  invalid_timestamp: () => clean(batch([pumpSample(1, { ts: '2024-13-01T00:00:00Z' })])).quarantine,
  future_timestamp: () => clean(batch([pumpSample(1, { ts: RECEIVED_AT + 3_600_000 })])).quarantine,
  stale_timestamp: () => clean(batch([pumpSample(1, { ts: RECEIVED_AT - 30 * 86_400_000 })])).quarantine,
  duplicate_seq: () => clean(batch([pumpSample(1), pumpSample(1)])).quarantine,
  late_sample: () => {
    const { state } = screenSamples(undefined, [cleanSample(1000, { flow: 1 })], CENTRIFUGAL_PUMP);
    return screenSamples(state, [cleanSample(1, { flow: 2 })], CENTRIFUGAL_PUMP).quarantine;
  },
  seq_jump: () => {
    const { state } = screenSamples(undefined, [cleanSample(1, { flow: 1 })], CENTRIFUGAL_PUMP);
    return screenSamples(state, [cleanSample(2 ** 53 - 1, { flow: 2 })], CENTRIFUGAL_PUMP).quarantine;
  },
  unknown_component: () => clean(batch([pumpSample(1, { component: 'gearbox' })])).quarantine,
  no_valid_readings: () => clean(batch([pumpSample(1, { readings: {} })])).quarantine,
  unknown_sensor: () =>
    clean(batch([pumpSample(1, { readings: { ...pumpReadings(), humidity: 40 } })])).quarantine,
  non_numeric: () =>
    clean(batch([pumpSample(1, { readings: { ...pumpReadings(), flow: 'NaN' } })])).quarantine,
  non_finite: () =>
    clean(
      `{"schema":"pdm.telemetry.v1","assetId":"pump-1","ts":${ONE_MINUTE_AGO},"seq":1,"readings":{"flow":1e400,"rpm":10}}`,
    ).quarantine,
  out_of_range: () =>
    clean(batch([pumpSample(1, { readings: { ...pumpReadings(), vibration: 812 } })])).quarantine,
  flatline: () => {
    const samples = Array.from({ length: 30 }, (_, i) =>
      cleanSample(i + 1, { flow: 100 + i, temperature: 40 }),
    );
    return screenSamples(undefined, samples, CENTRIFUGAL_PUMP).quarantine;
  },
  invalid_event: () =>
    clean(
      { schema: 'pdm.event.v1', assetId: 'pump-1', events: [{ ts: ONE_MINUTE_AGO, seq: 1, code: 'seal_leak', severity: 'fatal' }] },
      'pdm/site-a/pump-1/events',
    ).quarantine,
};

describe('cleanMessage', () => {
  describe('reason codes', () => {
    it.each(REASON_CODES)('produces %s from a concrete input', (reason) => {
      // Arrange
      const produce = REASON_CASES[reason];
      expect(produce, `no test case for reason ${reason}`).toBeDefined();

      // Act
      const records = produce();

      // Assert
      const hit = records.find((r) => r.reason === reason);
      expect(hit, `${reason} not among ${records.map((r) => r.reason).join(', ')}`).toBeDefined();
      expect(hit!.level).toBe(REASONS[reason]);
      expect(hit!.detail.length).toBeGreaterThan(10);
      if (REASONS[reason] === 'message') expect(records).toHaveLength(1);
    });

    it('has a case for exactly the reason codes of reasons.ts', () => {
      expect(Object.keys(REASON_CASES).sort()).toEqual([...REASON_CODES].sort());
    });
  });

  describe('telemetry forms', () => {
    it('accepts the single-sample form', () => {
      // Arrange
      const body = single({ ts: '2024-05-01T11:59:00Z', seq: 42 });

      // Act
      const result = clean(body);

      // Assert
      expect(result.kind).toBe('telemetry');
      expect(result.quarantine).toEqual([]);
      expect(result.samples).toEqual([
        {
          assetId: 'pump-1',
          siteId: 'site-a',
          modelId: 'centrifugal-pump',
          ts: Date.UTC(2024, 4, 1, 11, 59),
          seq: 42,
          readings: pumpReadings(),
          receivedAt: RECEIVED_AT,
          messageId: 'm-1',
        },
      ]);
      expect(result.counts).toEqual({
        messages: { received: 1, accepted: 1, quarantined: 0 },
        samples: { received: 1, clean: 1, quarantined: 0 },
        readings: { received: 6, clean: 6, quarantined: 0 },
      });
    });

    it('accepts the batch form and keeps sample order and component', () => {
      const body = batch([pumpSample(3), pumpSample(1, { component: 'bearing' }), pumpSample(2)]);

      const result = clean(body);

      expect(result.quarantine).toEqual([]);
      expect(result.samples.map((s) => s.seq)).toEqual([3, 1, 2]);
      expect(result.samples[1]!.component).toBe('bearing');
      expect(result.samples[0]).not.toHaveProperty('component');
      expect(result.counts.samples).toEqual({ received: 3, clean: 3, quarantined: 0 });
      expect(result.counts.readings).toEqual({ received: 18, clean: 18, quarantined: 0 });
    });

    it('accepts the payload as UTF-8 bytes', () => {
      const raw = message(single());
      const bytes = new TextEncoder().encode(raw.payload as string);

      const result = cleanMessage({ ...raw, payload: bytes }, ctx);

      expect(result.samples).toHaveLength(1);
    });

    it('treats a single-sample message with a samples field as a batch with an extra field', () => {
      const result = clean({ ...single(), samples: [pumpSample(2)] });

      expect(reasonsOf(result)).toEqual(['invalid_envelope']);
      expect(result.quarantine[0]!.detail).toContain('"ts"');
    });
  });

  describe('timestamps', () => {
    it.each([
      ['ISO with Z', '2024-05-01T11:59:00Z', Date.UTC(2024, 4, 1, 11, 59)],
      ['ISO with fraction', '2024-05-01T11:59:00.250Z', Date.UTC(2024, 4, 1, 11, 59, 0, 250)],
      ['ISO with a positive offset', '2024-05-01T13:59:00+02:00', Date.UTC(2024, 4, 1, 11, 59)],
      ['ISO with a negative offset', '2024-05-01T06:59:00-05:00', Date.UTC(2024, 4, 1, 11, 59)],
      ['epoch ms', Date.UTC(2024, 4, 1, 11, 59), Date.UTC(2024, 4, 1, 11, 59)],
    ])('normalises %s to epoch ms', (_name, ts, expected) => {
      const result = clean(single({ ts }));

      expect(result.samples[0]?.ts).toBe(expected);
    });

    it.each([
      ['epoch seconds', Math.floor(ONE_MINUTE_AGO / 1000), 'epoch seconds'],
      ['an ISO date without time', '2024-05-01', 'ISO-8601'],
      ['an ISO time without offset', '2024-05-01T11:59:00', 'ISO-8601'],
      ['a non-integer epoch', ONE_MINUTE_AGO + 0.5, 'epoch-millisecond'],
      ['a boolean', true, 'a boolean'],
      ['February 30th', '2024-02-30T11:59:00Z', 'ISO-8601'],
    ])('quarantines %s as invalid_timestamp', (_name, ts, mention) => {
      const result = clean(batch([pumpSample(1, { ts }), pumpSample(2)]));

      expect(reasonsOf(result)).toEqual(['invalid_timestamp']);
      expect(result.quarantine[0]!.detail).toContain(mention);
      expect(result.samples.map((s) => s.seq)).toEqual([2]);
    });

    it('accepts the clock skew limit exactly and rejects one ms more', () => {
      const skew = 5 * 60_000;

      const result = clean(
        batch([pumpSample(1, { ts: RECEIVED_AT + skew }), pumpSample(2, { ts: RECEIVED_AT + skew + 1 })]),
      );

      expect(result.samples.map((s) => s.seq)).toEqual([1]);
      expect(reasonsOf(result)).toEqual(['future_timestamp']);
    });

    it('takes limits from the context', () => {
      const limits = { maxAgeMs: 1000, maxFutureSkewMs: 0 };

      const result = cleanMessage(message(batch([pumpSample(1), pumpSample(2, { ts: RECEIVED_AT + 1 })])), {
        ...ctx,
        limits,
      });

      expect(reasonsOf(result)).toEqual(['stale_timestamp', 'future_timestamp']);
    });
  });

  describe('readings', () => {
    it('keeps the valid readings of a sample with one bad sensor', () => {
      // Arrange
      const readings = { ...pumpReadings(), vibration: 812 };

      // Act
      const result = clean(batch([pumpSample(7, { readings })]));

      // Assert
      const { vibration: _dropped, ...rest } = readings;
      expect(result.samples).toHaveLength(1);
      expect(result.samples[0]!.readings).toEqual(rest);
      expect(result.quarantine).toEqual([
        expect.objectContaining({
          reason: 'out_of_range',
          level: 'reading',
          detail: 'vibration=812 outside [0, 50] mm/s',
          sensor: 'vibration',
          seq: 7,
          sampleIndex: 0,
          assetId: 'pump-1',
          siteId: 'site-a',
          messageId: 'm-1',
          topic: PUMP_TOPIC,
          receivedAt: RECEIVED_AT,
        }),
      ]);
      expect(JSON.parse(result.quarantine[0]!.payload)).toEqual(pumpSample(7, { readings }));
      expect(result.counts.readings).toEqual({ received: 6, clean: 5, quarantined: 1 });
      expect(result.counts.messages.accepted).toBe(1);
    });

    it.each([
      ['the string "NaN"', 'NaN'],
      ['a numeric string', '12.5'],
      ['a boolean', false],
      ['null', null],
      ['an object', { v: 1 }],
      ['an array', [1]],
    ])('quarantines %s as non_numeric', (_name, value) => {
      const result = clean(single({ readings: { flow: value, rpm: 1000 } }));

      expect(reasonsOf(result)).toEqual(['non_numeric']);
      expect(result.samples[0]!.readings).toEqual({ rpm: 1000 });
    });

    it('accepts the catalog range bounds inclusively', () => {
      const result = clean(single({ readings: { vibration: 0, temperature: 150, flow: -0 } }));

      expect(result.quarantine).toEqual([]);
    });

    it('quarantines a sensor named like an Object.prototype member as unknown_sensor', () => {
      const text = `{"schema":"pdm.telemetry.v1","assetId":"pump-1","ts":${ONE_MINUTE_AGO},"seq":1,"readings":{"__proto__":5,"constructor":1,"flow":3}}`;

      const result = clean(text);

      expect(reasonsOf(result)).toEqual(['unknown_sensor', 'unknown_sensor']);
      expect(result.samples[0]!.readings).toEqual({ flow: 3 });
      expect(Object.getPrototypeOf(result.samples[0]!.readings)).toBe(Object.prototype);
    });

    it('quarantines a sample whose readings are all bad as no_valid_readings after the reading records', () => {
      const result = clean(single({ readings: { flow: -1, rpm: 'fast' } }));

      expect(reasonsOf(result)).toEqual(['out_of_range', 'non_numeric', 'no_valid_readings']);
      expect(result.samples).toEqual([]);
      expect(result.counts).toEqual({
        messages: { received: 1, accepted: 0, quarantined: 1 },
        samples: { received: 1, clean: 0, quarantined: 1 },
        readings: { received: 2, clean: 0, quarantined: 2 },
      });
    });

    it('validates turbofan readings against its own catalog', () => {
      const body = {
        schema: 'pdm.telemetry.v1',
        assetId: 'engine-7',
        ts: ONE_MINUTE_AGO,
        seq: 1,
        readings: { T24: 642.1, T30: 1589.7, Nf: 2388.1, vibration: 3 },
      };

      const result = clean(body, 'pdm/site-b/engine-7/telemetry');

      expect(result.samples[0]!.modelId).toBe(TURBOFAN.id);
      expect(reasonsOf(result)).toEqual(['unknown_sensor']);
    });
  });

  describe('samples', () => {
    it('keeps the first of two samples with the same seq', () => {
      const result = clean(batch([pumpSample(5), pumpSample(4), pumpSample(5, { ts: ONE_MINUTE_AGO })]));

      expect(result.samples.map((s) => [s.seq, s.ts])).toEqual([
        [5, ONE_MINUTE_AGO + 5],
        [4, ONE_MINUTE_AGO + 4],
      ]);
      expect(result.quarantine).toEqual([
        expect.objectContaining({ reason: 'duplicate_seq', sampleIndex: 2, seq: 5 }),
      ]);
    });

    it('does not let an invalid sample claim its seq', () => {
      const result = clean(batch([pumpSample(5, { ts: 'soon' }), pumpSample(5)]));

      expect(reasonsOf(result)).toEqual(['invalid_timestamp']);
      expect(result.samples.map((s) => s.seq)).toEqual([5]);
    });

    it.each([
      ['not an object', 42, 'a number'],
      ['an extra field', pumpSample(1, { unit: 'SI' }), '"unit"'],
      ['no seq', { ts: ONE_MINUTE_AGO, readings: pumpReadings() }, 'seq is missing'],
      ['a fractional seq', pumpSample(1, { seq: 1.5 }), 'seq=1.5'],
      ['readings as an array', pumpSample(1, { readings: [1, 2] }), 'an array'],
      ['no ts', { seq: 1, readings: pumpReadings() }, 'ts is missing'],
      ['an invalid component id', pumpSample(1, { component: 'a b' }), 'component'],
      [
        'more readings than the contract allows',
        pumpSample(1, { readings: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`s${i}`, i])) }),
        '65 readings',
      ],
    ])('quarantines a sample with %s as invalid_sample', (_name, sample, mention) => {
      const result = clean(batch([sample, pumpSample(9)]));

      expect(reasonsOf(result)).toEqual(['invalid_sample']);
      expect(result.quarantine[0]!.detail).toContain(mention);
      expect(result.quarantine[0]!.sampleIndex).toBe(0);
      expect(JSON.parse(result.quarantine[0]!.payload)).toEqual(sample);
      expect(result.samples.map((s) => s.seq)).toEqual([9]);
    });

    it('serialises a quarantined single-form sample without the envelope fields', () => {
      const result = clean(single({ ts: 'yesterday' }));

      expect(JSON.parse(result.quarantine[0]!.payload)).toEqual({
        ts: 'yesterday',
        seq: 1,
        readings: pumpReadings(),
      });
    });
  });

  describe('message-level faults', () => {
    it('quarantines a batch for an unknown asset once and counts its samples and readings', () => {
      const body = batch([pumpSample(1), pumpSample(2), { junk: true }], { assetId: 'pump-9' });
      const raw = message(body, 'pdm/site-a/pump-9/telemetry');

      const result = cleanMessage(raw, ctx);

      expect(result.quarantine).toEqual([
        expect.objectContaining({
          reason: 'unknown_asset',
          level: 'message',
          payload: raw.payload,
          assetId: 'pump-9',
        }),
      ]);
      expect(result.counts).toEqual({
        messages: { received: 1, accepted: 0, quarantined: 1 },
        samples: { received: 3, clean: 0, quarantined: 3 },
        readings: { received: 12, clean: 0, quarantined: 12 },
      });
    });

    it('quarantines an asset published under another site as unknown_asset', () => {
      const result = clean(single(), 'pdm/site-z/pump-1/telemetry');

      expect(reasonsOf(result)).toEqual(['unknown_asset']);
      expect(result.quarantine[0]!.detail).toContain('registered at site "site-a"');
    });

    it('quarantines when the payload assetId differs from the topic', () => {
      const result = clean(single({ assetId: 'engine-7' }));

      expect(reasonsOf(result)).toEqual(['topic_asset_mismatch']);
      expect(result.quarantine[0]!.assetId).toBe('pump-1');
    });

    it('maps a throwing asset lookup to unknown_asset', () => {
      const result = clean(single({ assetId: 'explode' }), 'pdm/site-a/explode/telemetry');

      expect(reasonsOf(result)).toEqual(['unknown_asset']);
      expect(result.quarantine[0]!.detail).toContain('registry unavailable');
    });

    it('stores non-UTF-8 bytes as base64 and says so', () => {
      const bytes = new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]);

      const result = cleanMessage({ ...message(''), payload: bytes }, ctx);

      expect(result.quarantine[0]!.payload).toBe(Buffer.from(bytes).toString('base64'));
      expect(result.quarantine[0]!.detail).toContain('base64');
    });

    it('rejects a string with an unpaired surrogate as invalid_encoding', () => {
      const result = cleanMessage(message(`{"x":"\ud800"}`), ctx);

      expect(reasonsOf(result)).toEqual(['invalid_encoding']);
      expect(JSON.parse(result.quarantine[0]!.payload)).toBe(`{"x":"\ud800"}`);
    });

    it('measures a string payload in UTF-8 bytes', () => {
      // 40 three-byte characters: 40 UTF-16 units, 120 bytes.
      const body = single({ note: '€'.repeat(40) });
      const size = new TextEncoder().encode(JSON.stringify(body)).byteLength;

      const fits = cleanMessage(message(body), { ...ctx, limits: { maxMessageBytes: size } });
      const over = cleanMessage(message(body), { ...ctx, limits: { maxMessageBytes: size - 1 } });

      expect(reasonsOf(fits)).toEqual(['invalid_envelope']);
      expect(reasonsOf(over)).toEqual(['payload_too_large']);
      expect(over.quarantine[0]!.detail).toContain(`${size} bytes`);
    });

    it('checks the topic before parsing and reports kind unknown', () => {
      const result = clean('not json', 'devices/pump-1/telemetry');

      expect(result.kind).toBe('unknown');
      expect(reasonsOf(result)).toEqual(['invalid_topic']);
      expect(result.quarantine[0]).not.toHaveProperty('assetId');
    });

    it.each([
      ['an array', '[1,2]', 'invalid_envelope'],
      ['a missing schema', JSON.stringify({ assetId: 'pump-1', samples: [] }), 'invalid_envelope'],
      ['a numeric schema', JSON.stringify(single({ schema: 1 })), 'invalid_envelope'],
      [
        'a maintenance schema',
        JSON.stringify(single({ schema: 'pdm.maintenance.v1' })),
        'unsupported_schema',
      ],
      ['an invalid assetId', JSON.stringify(single({ assetId: 'pump 1' })), 'invalid_envelope'],
      ['samples as an object', JSON.stringify({ ...batch([]), samples: {} }), 'invalid_envelope'],
      ['1001 samples', JSON.stringify(batch(Array.from({ length: 1001 }, (_, i) => i))), 'invalid_envelope'],
      [
        'only an envelope',
        JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: 'pump-1' }),
        'invalid_envelope',
      ],
      ['truncated JSON', '{"schema":', 'invalid_json'],
    ])('quarantines a telemetry message with %s', (_name, text, reason) => {
      const result = clean(text);

      expect(reasonsOf(result)).toEqual([reason]);
      expect(result.quarantine[0]!.payload).toBe(text);
    });
  });

  describe('maintenance', () => {
    const event = {
      schema: 'pdm.maintenance.v1',
      assetId: 'pump-1',
      ts: '2024-04-30T08:00:00+02:00',
      kind: 'replacement',
      component: 'seal',
      note: 'seal kit 4711',
    };

    it('accepts a valid event', () => {
      const result = clean(event, PUMP_MAINTENANCE_TOPIC);

      expect(result.kind).toBe('maintenance');
      expect(result.maintenance).toEqual([
        {
          assetId: 'pump-1',
          siteId: 'site-a',
          modelId: 'centrifugal-pump',
          ts: Date.UTC(2024, 3, 30, 6),
          kind: 'replacement',
          component: 'seal',
          receivedAt: RECEIVED_AT,
        },
      ]);
      expect(result.counts.messages).toEqual({ received: 1, accepted: 1, quarantined: 0 });
      expect(result.counts.samples.received).toBe(0);
    });

    it('accepts an event for the whole asset without a component, however old', () => {
      const result = clean(
        { ...event, component: undefined, ts: '2020-01-01T00:00:00Z' },
        PUMP_MAINTENANCE_TOPIC,
      );

      expect(result.maintenance[0]).not.toHaveProperty('component');
    });

    it.each([
      ['telemetry on the maintenance topic', single(), 'unsupported_schema'],
      ['an unknown kind', { ...event, kind: 'cleaning' }, 'invalid_envelope'],
      ['an unknown component', { ...event, component: 'gearbox' }, 'unknown_component'],
      ['a future ts', { ...event, ts: RECEIVED_AT + 86_400_000 }, 'future_timestamp'],
      ['another asset', { ...event, assetId: 'engine-7' }, 'topic_asset_mismatch'],
    ])('quarantines %s once', (_name, body, reason) => {
      const result = clean(body, PUMP_MAINTENANCE_TOPIC);

      expect(reasonsOf(result)).toEqual([reason]);
      expect(result.quarantine[0]!.payload).toBe(JSON.stringify(body));
      expect(result.maintenance).toEqual([]);
      expect(result.counts.messages).toEqual({ received: 1, accepted: 0, quarantined: 1 });
    });
  });
});

describe('addCounts', () => {
  it('sums every field and has emptyCounts as identity', () => {
    const a = clean(batch([pumpSample(1), pumpSample(1)])).counts;
    const b = clean('nope').counts;

    const sum = addCounts(addCounts(emptyCounts(), a), b);

    expect(sum).toEqual({
      messages: { received: 2, accepted: 1, quarantined: 1 },
      samples: { received: 2, clean: 1, quarantined: 1 },
      readings: { received: 12, clean: 6, quarantined: 6 },
    });
  });
});
