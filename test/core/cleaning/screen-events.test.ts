import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EventScreenState, screenEvents } from '../../../lambdas/core/cleaning/screen-events.ts';
import type { CleanEvent } from '../../../lambdas/core/types.ts';

const T0 = Date.UTC(2026, 0, 1);

/** An event as the clean stream delivers it: `messageId` is the raw record's stream position. */
function ev(seq: number, position: number): CleanEvent {
  return {
    assetId: 'pump-1',
    siteId: 'site-a',
    modelId: 'centrifugal-pump',
    ts: T0 + seq,
    seq,
    code: 'seal_leak',
    severity: 'error',
    receivedAt: T0 + seq,
    messageId: String(position).padStart(20, '0'),
  };
}

describe('screenEvents', () => {
  it('skips a re-read record without counting it, and quarantines a device resend once', () => {
    // Arrange
    const first = screenEvents(undefined, [ev(1, 100), ev(2, 101)]);
    // Act: the pipeline re-reads the same records (a retried batch), then the device resends seq 2.
    const replay = screenEvents(first.state, [ev(1, 100), ev(2, 101)]);
    const resend = screenEvents(replay.state, [ev(2, 102)]);
    // Assert
    expect(replay).toMatchObject({ replayed: 2, accepted: [], quarantine: [], counts: { received: 0, clean: 0, quarantined: 0 } });
    expect(resend.quarantine.map((q) => q.reason)).toEqual(['duplicate_seq']);
    expect(resend.state.tally).toEqual({ messages: 1, events: 1, byReason: { duplicate_seq: 1 } });
  });

  it('keeps a message that still has a new event out of the quarantined messages', () => {
    // Arrange: one raw record (one position) carrying a resent seq and a new one.
    const first = screenEvents(undefined, [ev(1, 100)]);
    // Act
    const mixed = screenEvents(first.state, [ev(1, 200), ev(2, 200)]);
    // Assert
    expect(mixed.accepted.map((e) => e.seq)).toEqual([2]);
    expect(mixed.state.tally).toEqual({ messages: 0, events: 1, byReason: { duplicate_seq: 1 } });
  });

  it('gives the same verdicts and tally for any split of the stream into batches, replays included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.boolean(), { maxLength: 10 }),
        (seqs, cuts, replays) => {
          const stream = seqs.map((seq, i) => ev(seq, 1000 + i));
          const whole = screenEvents(undefined, stream);
          let state: EventScreenState | undefined;
          const accepted: number[] = [];
          let at = 0;
          for (let b = 0; at < stream.length; b++) {
            const batch = stream.slice(at, at + cuts[b % cuts.length]!);
            const out = screenEvents(state, batch);
            accepted.push(...out.accepted.map((e) => e.seq));
            state = out.state;
            // A retried batch after its twin write applies nothing and counts nothing.
            if (replays[b % Math.max(1, replays.length)]) {
              const again = screenEvents(state, batch);
              expect(again.accepted).toEqual([]);
              expect(again.quarantine).toEqual([]);
              state = again.state;
            }
            at += batch.length;
          }
          expect(accepted).toEqual(whole.accepted.map((e) => e.seq));
          expect(state!.tally).toEqual(whole.state.tally);
          expect(whole.state.tally!.events + whole.accepted.length).toBe(stream.length);
        },
      ),
    );
  });
});
