import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CENTRIFUGAL_PUMP, TURBOFAN } from '../../../lambdas/core/catalog/index.ts';
import {
  initialScreenState,
  REASONS,
  SCREEN_WINDOW,
  type ScreenState,
  screenSamples,
} from '../../../lambdas/core/cleaning/index.ts';
import type { CleanSample } from '../../../lambdas/core/types.ts';
import { RECEIVED_AT } from './fixtures.ts';

function pump(
  seq: number,
  readings: Record<string, number> = { flow: 100 + (seq % 50), rpm: 2900 + (seq % 7) },
): CleanSample {
  return {
    assetId: 'pump-1',
    siteId: 'site-a',
    modelId: 'centrifugal-pump',
    ts: RECEIVED_AT - 1_000_000 + seq * 1000,
    seq,
    readings,
    receivedAt: RECEIVED_AT,
  };
}

/** Turbofan samples carrying only `altitude`, which is exempt from the flatline check. */
function engine(seq: number): CleanSample {
  return {
    assetId: 'engine-7',
    siteId: 'site-b',
    modelId: 'turbofan',
    ts: RECEIVED_AT,
    seq,
    readings: { altitude: 10 },
    receivedAt: RECEIVED_AT,
  };
}

const seqs = (samples: readonly CleanSample[]) => samples.map((s) => s.seq);
const roundTrip = (state: ScreenState): ScreenState => JSON.parse(JSON.stringify(state));

describe('screenSamples', () => {
  it('accepts new samples and remembers the highest seq and latest ts', () => {
    const samples = [pump(1), pump(2), pump(3)];

    const result = screenSamples(undefined, samples, CENTRIFUGAL_PUMP);

    expect(result.accepted).toEqual(samples);
    expect(result.quarantine).toEqual([]);
    expect(result.state.highestSeq).toBe(3);
    expect(result.state.latestTs).toBe(pump(3).ts);
    expect(result.counts).toEqual({
      samples: { received: 3, clean: 3, quarantined: 0 },
      readings: { received: 6, clean: 6, quarantined: 0 },
    });
  });

  it('quarantines a re-screened batch entirely as duplicate_seq, also after a JSON round trip', () => {
    const batch = [pump(5), pump(3), pump(4)];
    const first = screenSamples(undefined, batch, CENTRIFUGAL_PUMP);

    const again = screenSamples(roundTrip(first.state), batch, CENTRIFUGAL_PUMP);

    expect(again.accepted).toEqual([]);
    expect(again.quarantine.map((r) => r.reason)).toEqual([
      'duplicate_seq',
      'duplicate_seq',
      'duplicate_seq',
    ]);
    expect(again.quarantine[0]).toMatchObject({
      level: 'sample',
      topic: 'pdm/site-a/pump-1/telemetry',
      assetId: 'pump-1',
      siteId: 'site-a',
      messageId: 'screen',
      seq: 5,
      sampleIndex: 0,
    });
    expect(JSON.parse(again.quarantine[0]!.payload)).toEqual(pump(5));
    // The window is unchanged; only the tally kept with the state records the three duplicates.
    const { tally, ...window } = again.state;
    const { tally: firstTally, ...firstWindow } = first.state;
    expect(window).toEqual(firstWindow);
    expect(firstTally).toEqual({ messages: 0, samples: 0, readings: 0, byReason: {} });
    // Samples without a message id are counted, but cannot be attributed to a message.
    expect(tally).toEqual({ messages: 0, samples: 3, readings: 6, byReason: { duplicate_seq: 3 } });
  });

  it('processes a batch in arrival order and keeps the first of equal seqs', () => {
    const a = pump(7, { flow: 1 });
    const b = pump(7, { flow: 2 });

    const result = screenSamples(undefined, [pump(9), a, pump(8), b], CENTRIFUGAL_PUMP, { messageId: 'k-1' });

    expect(seqs(result.accepted)).toEqual([9, 7, 8]);
    expect(result.accepted[1]).toBe(a);
    expect(result.quarantine).toEqual([
      expect.objectContaining({ reason: 'duplicate_seq', sampleIndex: 3, messageId: 'k-1' }),
    ]);
  });

  it('accepts an out-of-order sample inside the window once, and quarantines older ones as late_sample', () => {
    const { state } = screenSamples(undefined, [pump(1000)], CENTRIFUGAL_PUMP);
    const oldestInWindow = 1000 - (SCREEN_WINDOW - 1);

    const result = screenSamples(
      state,
      [pump(oldestInWindow), pump(oldestInWindow - 1), pump(999)],
      CENTRIFUGAL_PUMP,
    );
    const replay = screenSamples(result.state, [pump(oldestInWindow), pump(999)], CENTRIFUGAL_PUMP);

    expect(seqs(result.accepted)).toEqual([oldestInWindow, 999]);
    expect(result.quarantine).toEqual([
      expect.objectContaining({ reason: 'late_sample', seq: oldestInWindow - 1 }),
    ]);
    expect(result.state.highestSeq).toBe(1000);
    expect(replay.quarantine.map((r) => r.reason)).toEqual(['duplicate_seq', 'duplicate_seq']);
  });

  it('forgets seqs that slide out of the window as the highest seq advances', () => {
    const first = screenSamples(undefined, [pump(10), pump(11)], CENTRIFUGAL_PUMP);

    const jumped = screenSamples(first.state, [pump(10 + SCREEN_WINDOW)], CENTRIFUGAL_PUMP);
    const old = screenSamples(jumped.state, [pump(10), pump(11)], CENTRIFUGAL_PUMP);

    expect(old.quarantine.map((r) => r.reason)).toEqual(['late_sample', 'duplicate_seq']);
  });

  describe('flatline', () => {
    const threshold = 30; // the catalog default for pump sensors

    it('quarantines a stuck sensor from the threshold-th identical value until it changes', () => {
      // Arrange: temperature stuck at 40 for 35 samples, then moving; flow always moving.
      const samples = Array.from({ length: 40 }, (_, i) =>
        pump(i + 1, { temperature: i < 35 ? 40 : 41 + i, flow: 100 + i }),
      );

      // Act: split over two calls to exercise the stored run.
      const first = screenSamples(undefined, samples.slice(0, 20), CENTRIFUGAL_PUMP);
      const second = screenSamples(roundTrip(first.state), samples.slice(20), CENTRIFUGAL_PUMP);

      // Assert
      const flat = [...first.quarantine, ...second.quarantine];
      expect(
        flat.every((r) => r.reason === 'flatline' && r.sensor === 'temperature' && r.level === 'reading'),
      ).toBe(true);
      expect(flat.map((r) => r.seq)).toEqual([30, 31, 32, 33, 34, 35]);
      expect(flat[0]!.detail).toBe(
        `temperature=40 unchanged for ${threshold} consecutive samples (limit ${threshold})`,
      );
      const accepted = [...first.accepted, ...second.accepted];
      expect(accepted).toHaveLength(40);
      expect(accepted[29]!.readings).toEqual({ flow: 129 });
      expect(accepted[35]!.readings).toEqual(samples[35]!.readings);
      expect(second.counts.readings).toEqual({ received: 40, clean: 34, quarantined: 6 });
    });

    it('quarantines a sample whose readings all flatlined as no_valid_readings', () => {
      const samples = Array.from({ length: threshold }, (_, i) => pump(i + 1, { temperature: 40 }));

      const result = screenSamples(undefined, samples, CENTRIFUGAL_PUMP);

      expect(result.accepted).toHaveLength(threshold - 1);
      expect(result.quarantine.map((r) => r.reason)).toEqual(['flatline', 'no_valid_readings']);
      expect(result.quarantine[1]!.level).toBe(REASONS.no_valid_readings);
      expect(result.counts.samples).toEqual({ received: threshold, clean: threshold - 1, quarantined: 1 });
      expect(result.state.highestSeq).toBe(threshold);
    });

    it('never flatlines a sensor that is constant by design', () => {
      const samples = Array.from({ length: 100 }, (_, i) => engine(i + 1));

      const result = screenSamples(undefined, samples, TURBOFAN);

      expect(result.quarantine).toEqual([]);
      expect(result.state.flatline).toEqual({});
    });

    it('leaves the run unchanged for an out-of-order sample', () => {
      const stuck = Array.from({ length: threshold - 1 }, (_, i) => pump(i + 10, { temperature: 40 }));
      const { state } = screenSamples(undefined, stuck, CENTRIFUGAL_PUMP);

      const late = screenSamples(state, [pump(1, { temperature: 99 })], CENTRIFUGAL_PUMP);
      const next = screenSamples(late.state, [pump(100, { temperature: 40 })], CENTRIFUGAL_PUMP);

      expect(late.accepted).toHaveLength(1);
      expect(late.state.flatline).toEqual(state.flatline);
      expect(next.quarantine.map((r) => r.reason)).toEqual(['flatline', 'no_valid_readings']);
    });
  });

  it('does not modify its inputs', () => {
    const { state } = screenSamples(undefined, [pump(1, { temperature: 40 })], CENTRIFUGAL_PUMP);
    const samples = [pump(3, { temperature: 40 }), pump(2, { temperature: 40 })];
    const before = structuredClone({ state, samples });

    screenSamples(Object.freeze(state), Object.freeze(samples), CENTRIFUGAL_PUMP);

    expect({ state, samples }).toEqual(before);
  });

  it('starts afresh from a malformed state', () => {
    const broken = {
      v: 1,
      highestSeq: 'x',
      seen: [],
      latestTs: null,
      flatline: {},
    } as unknown as ScreenState;

    const result = screenSamples(broken, [pump(1)], CENTRIFUGAL_PUMP);

    expect(result.accepted).toHaveLength(1);
    expect(result.state.seen).toHaveLength(SCREEN_WINDOW / 32);
  });

  describe('properties', () => {
    const batches = fc.array(fc.array(fc.integer({ min: 0, max: 700 }), { maxLength: 30 }), {
      maxLength: 12,
    });

    it('accepts each seq at most once and agrees with a set-based reference', () => {
      fc.assert(
        fc.property(batches, (batchSeqs) => {
          let state: ScreenState | undefined;
          const seen = new Set<number>();
          let highest = -1;
          for (const batch of batchSeqs) {
            // Reference: process in arrival order; accept when not seen and inside the window below the highest.
            const expected: number[] = [];
            for (const seq of batch) {
              if (seq <= highest - SCREEN_WINDOW || seen.has(seq)) continue;
              seen.add(seq);
              highest = Math.max(highest, seq);
              expected.push(seq);
            }

            const result = screenSamples(state && roundTrip(state), batch.map(engine), TURBOFAN);

            expect(seqs(result.accepted)).toEqual(expected);
            expect(result.counts.samples.clean + result.counts.samples.quarantined).toBe(batch.length);
            expect(result.quarantine.filter((r) => r.level === 'sample')).toHaveLength(
              batch.length - expected.length,
            );
            state = result.state;
          }
        }),
        { numRuns: 300 },
      );
    });

    it('gives the same result for any split of the same stream into batches', () => {
      const stream = fc.array(fc.integer({ min: 0, max: 600 }), { maxLength: 120 });
      fc.assert(
        fc.property(stream, fc.array(fc.nat(), { maxLength: 6 }), (seqList, cutSeeds) => {
          const samples = seqList.map((seq, i) => pump(seq, { temperature: 40 + (i % 3 === 0 ? 0 : i) }));
          const whole = screenSamples(undefined, samples, CENTRIFUGAL_PUMP);
          const cuts = [...new Set(cutSeeds.map((c) => c % (samples.length + 1)))].sort((a, b) => a - b);
          let state: ScreenState | undefined;
          const accepted: CleanSample[] = [];
          let from = 0;
          for (const to of [...cuts, samples.length]) {
            const part = screenSamples(state && roundTrip(state), samples.slice(from, to), CENTRIFUGAL_PUMP);
            accepted.push(...part.accepted);
            state = part.state;
            from = to;
          }
          expect(accepted).toEqual(whole.accepted);
          expect(state ?? initialScreenState()).toEqual(whole.state);
        }),
        { numRuns: 200 },
      );
    });

    it('keeps the accounting invariant, is deterministic and keeps its state small', () => {
      const value = fc.constantFrom(40, 41, 300);
      const sample = fc
        .record({
          seq: fc.integer({ min: 0, max: 400 }),
          readings: fc.record({ temperature: value, flow: value, current: value }, { requiredKeys: [] }),
        })
        .map(({ seq, readings }) => pump(seq, readings));
      fc.assert(
        fc.property(fc.array(fc.array(sample, { maxLength: 40 }), { maxLength: 8 }), (batchList) => {
          let state = initialScreenState();
          for (const batch of batchList) {
            const result = screenSamples(state, batch, CENTRIFUGAL_PUMP);
            const twin = screenSamples(roundTrip(state), batch, CENTRIFUGAL_PUMP);

            expect(twin).toEqual(result);
            const { samples, readings } = result.counts;
            expect(samples.clean + samples.quarantined).toBe(samples.received);
            expect(samples.received).toBe(batch.length);
            expect(readings.clean + readings.quarantined).toBe(readings.received);
            const kept = result.accepted.reduce((n, s) => n + Object.keys(s.readings).length, 0);
            expect(kept).toBe(readings.clean);
            expect(result.accepted.every((s) => Object.keys(s.readings).length > 0)).toBe(true);
            expect(JSON.stringify(result.state).length).toBeLessThan(400);
            state = result.state;
          }
        }),
        { numRuns: 200 },
      );
    });
  });
});

describe('screenSamples replays', () => {
  const at = (seq: number, position: string) => ({ ...pumpAt(seq), messageId: position });
  function pumpAt(seq: number) {
    return { assetId: 'pump-1', siteId: 'site-a', modelId: 'centrifugal-pump', ts: 1_767_225_600_000 + seq * 60_000, seq, readings: { flow: 100 + seq, rpm: 2900 + seq }, receivedAt: 1_767_225_600_000 + seq * 60_000 };
  }

  it('skips records re-read by the pipeline, across calls and within one batch, and screens a device resend', () => {
    // Arrange: positions are raw stream positions; "30" re-sends seq 1 as a new record.
    const first = screenSamples(undefined, [at(1, '10'), at(2, '20')], CENTRIFUGAL_PUMP);

    // Act
    const again = screenSamples(first.state, [at(1, '10'), at(2, '20'), at(3, '25'), at(3, '25'), at(1, '30')], CENTRIFUGAL_PUMP);

    // Assert
    expect(again.replayed).toBe(3);
    expect(again.accepted.map((s) => s.seq)).toEqual([3]);
    expect(again.quarantine.map((q) => q.reason)).toEqual(['duplicate_seq']);
    expect(again.state.through).toBe('30');
    expect(again.state.tally).toMatchObject({ samples: 1, messages: 1, byReason: { duplicate_seq: 1 } });
  });
});
