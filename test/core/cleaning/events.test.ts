import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CleanResult, cleanMessage, type ReasonCode } from '../../../lambdas/core/cleaning/index.ts';
import { EventMessageSchema } from '../../../lambdas/core/contract/telemetry.ts';
import { ctx, message, ONE_MINUTE_AGO, RECEIVED_AT } from './fixtures.ts';

const TOPIC = 'pdm/site-a/pump-1/events';

function event(seq: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ts: ONE_MINUTE_AGO + seq, seq, code: 'seal_leak', severity: 'error', ...extra };
}

function events(list: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schema: 'pdm.event.v1', assetId: 'pump-1', events: list, ...extra };
}

function clean(body: unknown, topic = TOPIC): CleanResult {
  return cleanMessage(message(body, topic), ctx);
}

const reasons = (r: CleanResult): string[] => r.quarantine.map((q) => `${q.level}:${q.reason}`);

describe('cleanMessage: device events', () => {
  it('passes a single top-level event, filling the component the catalog maps its code to', () => {
    // Act
    const result = clean({ schema: 'pdm.event.v1', assetId: 'pump-1', ...event(4), message: 'drip' });
    // Assert
    expect(result.kind).toBe('events');
    expect(result.events).toEqual([
      {
        assetId: 'pump-1',
        siteId: 'site-a',
        modelId: 'centrifugal-pump',
        ts: ONE_MINUTE_AGO + 4,
        seq: 4,
        code: 'seal_leak',
        severity: 'error',
        component: 'seal',
        message: 'drip',
        receivedAt: RECEIVED_AT,
        messageId: 'm-1',
      },
    ]);
    expect(result.counts.events).toEqual({ received: 1, clean: 1, quarantined: 0 });
    expect(result.counts.messages).toEqual({ received: 1, accepted: 1, quarantined: 0 });
    expect(result.samples).toEqual([]);
  });

  it('keeps a code the catalog does not know, and the component the device names', () => {
    // Act
    const result = clean(events([event(1, { code: 'E-1043', component: 'motor' }), event(2, { code: 'E-9' })]));
    // Assert
    expect(result.events.map((e) => [e.code, e.component])).toEqual([
      ['E-1043', 'motor'],
      ['E-9', undefined],
    ]);
  });

  it('quarantines one bad event with its reason while the message’s other events go on', () => {
    // Arrange
    const list = [
      event(1),
      event(2, { severity: 'fatal' }),
      event(3, { ts: 1_714_000_000 }),
      event(4, { ts: RECEIVED_AT + 3_600_000 }),
      event(5, { ts: RECEIVED_AT - 30 * 86_400_000 }),
      event(1),
      event(6, { component: 'gearbox' }),
      event(7, { firmware: 'x' }),
      'not an event',
    ];
    // Act
    const result = clean(events(list));
    // Assert
    expect(result.events.map((e) => e.seq)).toEqual([1]);
    expect(reasons(result)).toEqual([
      'event:invalid_event',
      'event:invalid_timestamp',
      'event:future_timestamp',
      'event:stale_timestamp',
      'event:duplicate_seq',
      'event:unknown_component',
      'event:invalid_event',
      'event:invalid_event',
    ]);
    expect(result.quarantine.map((q) => q.sampleIndex)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(result.counts.events).toEqual({ received: 9, clean: 1, quarantined: 8 });
    expect(result.counts.messages.accepted).toBe(1);
    expect(result.quarantine[1]!.detail).toMatch(/epoch seconds/);
  });

  it.each<[string, unknown, string, ReasonCode]>([
    ['not JSON', '{"schema":"pdm.event.v1",', TOPIC, 'invalid_json'],
    ['telemetry on the events topic', { schema: 'pdm.telemetry.v1', assetId: 'pump-1', ts: ONE_MINUTE_AGO, seq: 1, readings: { flow: 1 } }, TOPIC, 'unsupported_schema'],
    ['an event on the telemetry topic', events([event(1)]), 'pdm/site-a/pump-1/telemetry', 'unsupported_schema'],
    ['an unknown envelope field', events([event(1)], { firmware: '1.0' }), TOPIC, 'invalid_envelope'],
    ['events that are not an array', events([], { events: {} }), TOPIC, 'invalid_envelope'],
    ['an envelope without events', { schema: 'pdm.event.v1', assetId: 'pump-1' }, TOPIC, 'invalid_envelope'],
    ['a topic/payload asset mismatch', events([event(1)]), 'pdm/site-a/pump-2/events', 'topic_asset_mismatch'],
    ['an unknown asset', events([event(1)], { assetId: 'pump-9' }), 'pdm/site-a/pump-9/events', 'unknown_asset'],
    ['an empty batch', events([]), TOPIC, 'empty_batch'],
  ])('quarantines the whole message for %s', (_, body, topic, reason) => {
    // Act
    const result = clean(body, topic);
    // Assert
    expect(result.quarantine.map((q) => [q.level, q.reason])).toEqual([['message', reason]]);
    expect(result.events).toEqual([]);
    expect(result.counts.messages).toEqual({ received: 1, accepted: 0, quarantined: 1 });
    if (topic.endsWith('/events')) {
      expect(result.counts.events!.clean).toBe(0);
      expect(result.counts.events!.quarantined).toBe(result.counts.events!.received);
    }
  });

  it('accounts for every event and accepts exactly the events the contract accepts', () => {
    // Arrange: events near the contract's edges.
    const item = fc.record(
      {
        ts: fc.oneof(fc.constant(ONE_MINUTE_AGO), fc.constant('2024-05-01T11:59:00Z'), fc.constant('2024-13-01T00:00:00Z'), fc.constant(1_714_000_000)),
        seq: fc.oneof(fc.nat(5), fc.constant(-1), fc.constant(1.5)),
        code: fc.oneof(fc.constantFrom('seal_leak', 'E-1043', 'x.y:z'), fc.constant(''), fc.constant(' bad')),
        severity: fc.constantFrom('info', 'warning', 'error', 'critical', 'fatal'),
        component: fc.constantFrom('seal', 'motor', 'bad id!'),
        message: fc.string({ maxLength: 4 }),
      },
      { requiredKeys: ['ts', 'seq'] },
    );
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 6 }), (list) => {
        // Act
        const result = clean(events(list));
        // Assert
        const tally = result.counts.events!;
        expect(tally.received).toBe(list.length);
        expect(tally.clean + tally.quarantined).toBe(tally.received);
        expect(result.quarantine).toHaveLength(tally.quarantined);
        const seqs = new Set<number>();
        const expected = list.filter((e) => {
          if (!EventMessageSchema.safeParse({ schema: 'pdm.event.v1', assetId: 'pump-1', ...e }).success) return false;
          if (seqs.has(e.seq)) return false;
          seqs.add(e.seq);
          return true;
        });
        expect(result.events.map((e) => e.seq)).toEqual(expected.map((e) => e.seq));
      }),
      { numRuns: 200 },
    );
  });
});
