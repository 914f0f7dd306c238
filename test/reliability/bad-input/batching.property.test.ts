/**
 * Counting follows the contract end to end, whatever the batching: a message is accepted only if at
 * least one of its samples survives both cleaning and screening, and the summary of a run equals the
 * sum of its per-message outcomes.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFleet, fleetLookup } from '../../../devices/fleet.ts';
import { DEFAULT_BASELINES } from '../../../lambdas/core/anomaly/index.ts';
import { addCounts, cleanMessage, type Counts, emptyCounts } from '../../../lambdas/core/cleaning/index.ts';
import { processMessages, type RawMessage } from '../../../lambdas/core/pipeline.ts';
import type { Twin } from '../../../lambdas/core/twin/twin.ts';
import { CORPUS_FILE, loadCorpus, RECEIVED_AT } from './corpus.ts';

const baselineFor = (m: { id: string }) => DEFAULT_BASELINES[m.id]!;
const lookupAsset = fleetLookup(createFleet({ assets: 12, seed: 1 }));
const cases = loadCorpus(readFileSync(CORPUS_FILE, 'utf8')).cases.filter((c) => c.payload.length < 20_000);

/** Runs the messages in batches cut at `cuts`, carrying the twins forward as the twin table would. */
function run(messages: readonly RawMessage[], cuts: readonly number[]): { total: Counts; twins: Map<string, Twin> } {
  let twins = new Map<string, Twin>();
  let total = emptyCounts();
  const bounds = [...new Set([0, ...cuts.filter((c) => c > 0 && c < messages.length), messages.length])].sort((a, b) => a - b);
  for (let i = 0; i + 1 < bounds.length; i++) {
    const result = processMessages(messages.slice(bounds[i], bounds[i + 1]), twins, { lookupAsset, baselineFor });
    twins = new Map([...twins, ...result.twins]);
    total = addCounts(total, result.counts);
  }
  return { total, twins };
}

/** A stream: corpus messages in a random order, some sent again by their device later (new records). */
const stream = fc
  .record({
    picks: fc.array(fc.nat(cases.length - 1), { minLength: 1, maxLength: 60 }),
    resends: fc.array(fc.nat(), { maxLength: 15 }),
    cuts: fc.array(fc.nat(80), { maxLength: 6 }),
  })
  .map(({ picks, resends, cuts }) => {
    const chosen = picks.map((i) => cases[i]!);
    for (const r of resends) chosen.push(chosen[r % chosen.length]!);
    // Message ids are raw stream positions: every message, resends included, is a record of its own.
    const messages: RawMessage[] = chosen.map((c, i) => ({ topic: c.topic, payload: c.payload, messageId: String(i + 1), receivedAt: RECEIVED_AT }));
    return { messages, cuts };
  });

describe('counting across cleaning and screening', () => {
  it('adds up for any corpus and any batching, and equals the sum of per-message outcomes', () => {
    fc.assert(
      fc.property(stream, ({ messages, cuts }) => {
        // Act
        const batched = run(messages, cuts);
        const oneByOne = run(messages, messages.map((_m, i) => i));

        // Assert: the identities hold, and batching changes no outcome.
        const t = batched.total;
        expect(t.messages.received).toBe(messages.length);
        expect(t.messages.accepted + t.messages.quarantined).toBe(t.messages.received);
        expect(t.samples.clean + t.samples.quarantined).toBe(t.samples.received);
        expect(t.readings.clean + t.readings.quarantined).toBe(t.readings.received);
        expect(t).toEqual(oneByOne.total);
        // What screening moved from accepted to quarantined is what the twins' tallies recorded.
        const cleaning = messages.reduce((acc, m) => addCounts(acc, cleanMessage(m, { lookupAsset }).counts), emptyCounts());
        let screened = 0;
        let screenedSamples = 0;
        let screenedReadings = 0;
        for (const twin of batched.twins.values()) {
          screened += twin.screen?.tally?.messages ?? 0;
          screenedSamples += twin.screen?.tally?.samples ?? 0;
          screenedReadings += twin.screen?.tally?.readings ?? 0;
        }
        expect(t.messages.accepted).toBe(cleaning.messages.accepted - screened);
        expect(t.samples.clean).toBe(cleaning.samples.clean - screenedSamples);
        expect(t.readings.clean).toBe(cleaning.readings.clean - screenedReadings);
      }),
      { numRuns: Number(process.env.BATCHING_RUNS ?? 40) },
    );
  }, 120_000);

  it('quarantines a resent message whose every sample is a duplicate, with the screening reason, readings included', () => {
    // Arrange: one valid pump message, then the same message again from the device (a new record).
    const valid = cases.find((c) => c.id === 'valid-002')!;
    const first: RawMessage = { topic: valid.topic, payload: valid.payload, messageId: '1', receivedAt: RECEIVED_AT };
    const again: RawMessage = { ...first, messageId: '2' };

    // Act
    const { total } = run([first, again], [1]);

    // Assert
    expect(total.messages).toEqual({ received: 2, accepted: 1, quarantined: 1 });
    expect(total.samples).toEqual({ received: 6, clean: 3, quarantined: 3 });
    expect(total.readings).toEqual({ received: 36, clean: 18, quarantined: 18 });
  });
});
