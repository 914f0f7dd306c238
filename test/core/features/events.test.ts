import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AssetModel } from '../../../lambdas/core/catalog/index.ts';
import { CENTRIFUGAL_PUMP, INDUSTRIAL_MACHINE, TURBOFAN } from '../../../lambdas/core/catalog/index.ts';
import {
  batchEventCounts,
  batchFeatureVector,
  createFeatureState,
  EventFeatureInputError,
  eventLayout,
  type FeatureEvent,
  FeatureLayoutError,
  featureLayout,
  featureNames,
  featureStateBytes,
  FeatureStateMismatchError,
  featureVector,
  updateFeatureEvents,
  updateFeatureState,
} from '../../../lambdas/core/features/index.ts';
import { CTX, firstMismatch, LONG_CYCLE, MINI_TIME, samplesArb } from './helpers.ts';

const HOUR = 3_600_000;
const EPOCH = 1_735_689_600_000; // 2025-01-01T00:00:00Z

const MINI_EVENTS: AssetModel = {
  ...MINI_TIME,
  id: 'mini-events',
  events: { e1: { description: 'one', component: 'a' }, e2: { description: 'two' } },
};
const LONG_CYCLE_EVENTS: AssetModel = { ...LONG_CYCLE, id: 'long-cycle-events', events: MINI_EVENTS.events! };

interface Case {
  readonly model: AssetModel;
  readonly span: number;
  readonly base: number;
}

const CASES: readonly Case[] = [
  { model: TURBOFAN, span: 80, base: 1 },
  { model: LONG_CYCLE_EVENTS, span: 320, base: 1 },
  { model: MINI_EVENTS, span: 1_000_000, base: EPOCH },
  { model: INDUSTRIAL_MACHINE, span: 16 * 24 * HOUR, base: EPOCH },
];

/** Random event logs: known and unknown codes, out of order, repeated t values and long gaps. */
function eventsArb(model: AssetModel, span: number, base: number, maxLength = 80): fc.Arbitrary<FeatureEvent[]> {
  const codes = [...Object.keys(model.events ?? {}), 'mystery', 'E-1043'];
  const t = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: span }) },
    { weight: 1, arbitrary: fc.constantFrom(0, Math.floor(span / 2), span) },
  );
  const event = fc.record({ t: t.map((x) => base + x), code: fc.constantFrom(...codes) });
  return fc
    .array(event, { maxLength })
    .chain((events) => fc.constantFrom(events, [...events].sort((a, b) => a.t - b.t)));
}

function nowFor(ts: readonly number[], shift: number): number {
  return ts.reduce((m, t) => Math.max(m, t), 0) + shift;
}

describe('event-count features (incremental vs batch)', () => {
  it.each(CASES.map((c) => [c.model.id, c] as const))(
    'match the batch reference on random event logs for %s',
    (_, { model, span, base }) => {
      const shift = fc.oneof(
        { weight: 3, arbitrary: fc.constant(0) },
        { weight: 2, arbitrary: fc.integer({ min: -Math.floor(span / 8), max: Math.floor(span / 4) }) },
      );
      fc.assert(
        fc.property(eventsArb(model, span, base), samplesArb(model, span, base, 20), shift, (events, samples, dt) => {
          // Arrange
          const state = createFeatureState(model);
          const now = nowFor([...events.map((e) => e.t), ...samples.map((s) => s.t)], dt);
          // Act: samples and events interleaved; their states are independent, so the batch takes them apart.
          let i = 0;
          for (const e of events) {
            updateFeatureEvents(state, model, e.t, e.code);
            const s = samples[i++];
            if (s) updateFeatureState(state, model, s.t, s.readings);
          }
          for (; i < samples.length; i++) updateFeatureState(state, model, samples[i]!.t, samples[i]!.readings);
          const incremental = featureVector(state, model, now, CTX);
          const batch = batchFeatureVector(model, samples, now, CTX, [], events);
          // Assert
          expect(firstMismatch(model, incremental, batch)).toBeNull();
          expect(JSON.stringify(state).length).toBeLessThanOrEqual(featureStateBytes(model));
        }),
        { numRuns: 100 },
      );
    },
  );

  it.each(CASES.map((c) => [c.model.id, c] as const))(
    'keep the state the same size whatever the log for %s',
    (_, { model, span, base }) => {
      fc.assert(
        fc.property(eventsArb(model, span, base, 200), (events) => {
          // Arrange
          const empty = createFeatureState(model);
          const state = createFeatureState(model);
          // Act
          for (const e of events) updateFeatureEvents(state, model, e.t, e.code);
          // Assert
          expect(state.e.r.map((r) => r.length)).toEqual(empty.e.r.map((r) => r.length));
          expect(state.e.h).toHaveLength(empty.e.h.length);
        }),
        { numRuns: 40 },
      );
    },
  );

  it('survives JSON round trips at random points bit for bit', () => {
    fc.assert(
      fc.property(eventsArb(MINI_EVENTS, 1_000_000, EPOCH), fc.array(fc.nat(), { maxLength: 6 }), (events, cuts) => {
        // Arrange
        const plain = createFeatureState(MINI_EVENTS);
        let revived = createFeatureState(MINI_EVENTS);
        const cutAt = new Set(cuts.map((c) => c % (events.length + 1)));
        // Act
        events.forEach((e, i) => {
          if (cutAt.has(i)) revived = JSON.parse(JSON.stringify(revived));
          updateFeatureEvents(plain, MINI_EVENTS, e.t, e.code);
          updateFeatureEvents(revived, MINI_EVENTS, e.t, e.code);
        });
        // Assert
        const now = nowFor(
          events.map((e) => e.t),
          0,
        );
        expect(featureVector(revived, MINI_EVENTS, now, CTX)).toEqual(featureVector(plain, MINI_EVENTS, now, CTX));
      }),
      { numRuns: 60 },
    );
  });
});

describe('event-count features', () => {
  it('name one count per known code, other and total, per window, after the other features', () => {
    // Arrange
    const names = featureNames(INDUSTRIAL_MACHINE);
    // Act
    const events = names.filter((n) => n.startsWith('events_'));
    // Assert
    expect(events.slice(0, 3)).toEqual(['events_error1_3h', 'events_error1_24h', 'events_error1_7d']);
    expect(events).toHaveLength((5 + 2) * 3);
    expect(events.slice(-3)).toEqual(['events_total_3h', 'events_total_24h', 'events_total_7d']);
    expect(names.slice(-events.length)).toEqual(events);
    expect(eventLayout(INDUSTRIAL_MACHINE).names).toEqual(events);
  });

  it('count an hourly log over exactly the last 24 hours in the 24 h window', () => {
    // Arrange: error1 at 07:00 on day 1, then the vector hourly up to 30 h later.
    const state = createFeatureState(INDUSTRIAL_MACHINE);
    const at = EPOCH + 7 * HOUR;
    updateFeatureEvents(state, INDUSTRIAL_MACHINE, at, 'error1');
    const index = featureNames(INDUSTRIAL_MACHINE).indexOf('events_error1_24h');
    // Act
    const counts = Array.from({ length: 30 }, (_, h) => featureVector(state, INDUSTRIAL_MACHINE, at + h * HOUR, CTX)[index]);
    // Assert
    expect(counts.slice(0, 24)).toEqual(new Array(24).fill(1));
    expect(counts.slice(24)).toEqual(new Array(6).fill(0));
  });

  it('counts codes the catalog does not list as other, and every event in total', () => {
    // Arrange
    const state = createFeatureState(CENTRIFUGAL_PUMP);
    const names = featureNames(CENTRIFUGAL_PUMP);
    // Act
    updateFeatureEvents(state, CENTRIFUGAL_PUMP, EPOCH, 'seal_leak');
    updateFeatureEvents(state, CENTRIFUGAL_PUMP, EPOCH + 1000, 'E-1043');
    updateFeatureEvents(state, CENTRIFUGAL_PUMP, EPOCH + 2000, 'seal_leak');
    const v = featureVector(state, CENTRIFUGAL_PUMP, EPOCH + 3000, CTX);
    // Assert
    expect(v[names.indexOf('events_seal_leak_1h')]).toBe(2);
    expect(v[names.indexOf('events_other_1h')]).toBe(1);
    expect(v[names.indexOf('events_total_7d')]).toBe(3);
    expect(v[names.indexOf('events_bearing_overtemp_24h')]).toBe(0);
  });

  it('ignores an event older than every retained bucket, as it ignores a late sample', () => {
    // Arrange
    const state = createFeatureState(INDUSTRIAL_MACHINE);
    updateFeatureEvents(state, INDUSTRIAL_MACHINE, EPOCH + 30 * 24 * HOUR, 'error2');
    // Act
    updateFeatureEvents(state, INDUSTRIAL_MACHINE, EPOCH, 'error2');
    // Assert
    expect(state.e.n).toBe(1);
    expect(batchEventCounts(INDUSTRIAL_MACHINE, [{ t: EPOCH + 30 * 24 * HOUR, code: 'error2' }, { t: EPOCH, code: 'error2' }], EPOCH + 30 * 24 * HOUR)).toEqual(
      featureVector(state, INDUSTRIAL_MACHINE, EPOCH + 30 * 24 * HOUR, CTX).slice(-eventLayout(INDUSTRIAL_MACHINE).names.length),
    );
  });

  it('rejects a non-finite time and a fractional cycle with a named error, leaving the state as it was', () => {
    // Arrange
    const state = createFeatureState(TURBOFAN);
    const before = JSON.stringify(state);
    // Act / Assert
    expect(() => updateFeatureEvents(state, TURBOFAN, Number.NaN, 'egt_exceedance')).toThrow(EventFeatureInputError);
    expect(() => updateFeatureEvents(state, TURBOFAN, 3.5, 'egt_exceedance')).toThrow(EventFeatureInputError);
    expect(JSON.stringify(state)).toBe(before);
  });

  it('refuses a state whose event counts do not fit the model', () => {
    // Arrange
    const state = createFeatureState(INDUSTRIAL_MACHINE);
    const damaged = { ...state, e: { ...state.e, r: [[1, 2, 3]] } };
    const missing = { ...state, e: undefined } as unknown as typeof state;
    // Act / Assert
    expect(() => featureVector(damaged, INDUSTRIAL_MACHINE, EPOCH, CTX)).toThrow(FeatureStateMismatchError);
    expect(() => updateFeatureEvents(missing, INDUSTRIAL_MACHINE, EPOCH, 'error1')).toThrow(FeatureStateMismatchError);
  });

  it('refuses catalog codes that cannot name a feature', () => {
    // Arrange
    const bad: AssetModel = { ...MINI_TIME, id: 'bad-codes', events: { total: { description: 'clashes' } } };
    const dotted: AssetModel = { ...MINI_TIME, id: 'dotted-codes', events: { 'a.b': { description: 'not an identifier' } } };
    // Act / Assert
    expect(() => featureLayout(bad)).toThrow(FeatureLayoutError);
    expect(() => featureLayout(dotted)).toThrow(FeatureLayoutError);
  });
});
