import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFleet, FleetSimulator, fleetLookup } from '../../devices/fleet.ts';
import { DEFAULT_BASELINES } from '../../lambdas/core/anomaly/index.ts';
import type { RawMessage } from '../../lambdas/core/pipeline.ts';
import { processMessages } from '../../lambdas/core/pipeline.ts';
import type { Twin } from '../../lambdas/core/twin/twin.ts';

const baselineFor = (m: { id: string }) => DEFAULT_BASELINES[m.id]!;

describe('processMessages accounting', () => {
  it('accounts for every message, sample and reading with damaged, replayed and foreign input', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (seed, faultRate, perMessage, replayPicks) => {
          const fleet = createFleet({ assets: 4, seed });
          const sim = new FleetSimulator(fleet, { seed, faultRate, samplesPerMessage: perMessage });
          const messages: RawMessage[] = [];
          for (let t = 0; t < 12; t++) {
            const receivedAt = sim.now + 1_000;
            for (const m of sim.step()) messages.push({ ...m, messageId: `m${messages.length}`, receivedAt });
          }
          // Redeliveries (at-least-once) and a device we never registered.
          for (const pick of replayPicks) {
            const again = messages[pick % messages.length]!;
            messages.push({ ...again, messageId: `r${messages.length}` });
          }
          messages.push({
            topic: 'pdm/site-z/ghost/telemetry',
            payload: '{"schema":"pdm.telemetry.v1","assetId":"ghost","ts":1,"seq":1,"readings":{}}',
            messageId: 'ghost',
            receivedAt: sim.now,
          });

          const result = processMessages(messages, new Map<string, Twin>(), {
            lookupAsset: fleetLookup(fleet),
            baselineFor,
          });
          expect(result.twins.size).toBeGreaterThan(0);

          const { messages: m, samples: s, readings: r } = result.counts;
          expect(m.received).toBe(messages.length);
          expect(m.accepted + m.quarantined).toBe(m.received);
          expect(s.clean + s.quarantined).toBe(s.received);
          expect(r.clean + r.quarantined).toBe(r.received);
          expect(result.rows).toBe(s.clean);
          const messageLevel = result.quarantine.filter((q) => q.level === 'message').length;
          const sampleLevel = result.quarantine.filter((q) => q.level === 'sample').length;
          expect(messageLevel).toBeLessThanOrEqual(m.quarantined);
          expect(sampleLevel).toBeLessThanOrEqual(s.quarantined);
          for (const q of result.quarantine) expect(q.payload.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 25 },
    );
  });
});
