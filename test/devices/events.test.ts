import { describe, expect, it } from 'vitest';
import { DeviceEventOptionsError } from '../../devices/events.ts';
import { createFleet, type DeviceMessage, type FleetAsset, FleetSimulator, fleetLookup, type SimulatorOptions } from '../../devices/fleet.ts';
import { DEFAULT_BASELINES } from '../../lambdas/core/anomaly/index.ts';
import { cleanMessage } from '../../lambdas/core/cleaning/index.ts';
import { EventMessageSchema } from '../../lambdas/core/contract/telemetry.ts';
import { featureNames, featureVector } from '../../lambdas/core/features/index.ts';
import { getAssetModel } from '../../lambdas/core/catalog/index.ts';
import { processMessages } from '../../lambdas/core/pipeline.ts';

const PUMPS: FleetAsset[] = [
  { assetId: 'pump-001', siteId: 'site-a', modelId: 'centrifugal-pump', degradation: { component: 'bearing', startTick: 20, failTick: 320 } },
  { assetId: 'pump-002', siteId: 'site-b', modelId: 'centrifugal-pump' },
];

function run(fleet: readonly FleetAsset[], ticks: number, events: SimulatorOptions['events']) {
  const sim = new FleetSimulator(fleet, { seed: 5, ...(events !== undefined ? { events } : {}) });
  const out: { message: DeviceMessage; receivedAt: number; tick: number }[] = [];
  for (let t = 0; t < ticks; t++) {
    const receivedAt = sim.now + 1_000;
    for (const message of sim.step()) out.push({ message, receivedAt, tick: t });
  }
  return out;
}

const isEvents = (m: DeviceMessage) => m.topic.endsWith('/events');

describe('FleetSimulator device events', () => {
  it('adds events messages without changing any other message', () => {
    // Act
    const without = run(PUMPS, 200, undefined).map((x) => x.message);
    const withEvents = run(PUMPS, 200, true).map((x) => x.message);
    // Assert
    expect(withEvents.filter((m) => !isEvents(m))).toEqual(without);
    expect(withEvents.filter(isEvents).length).toBeGreaterThan(0);
  });

  it('sends events on the contract that cleaning accepts whole', () => {
    // Arrange
    const fleet = createFleet({ assets: 9, seed: 2, failingShare: 1, degradationTicks: 60 });
    const lookupAsset = fleetLookup(fleet);
    // Act
    const messages = run(fleet, 150, { noiseRate: 0.05 }).filter((x) => isEvents(x.message));
    // Assert
    expect(messages.length).toBeGreaterThan(20);
    for (const { message, receivedAt } of messages) {
      expect(EventMessageSchema.safeParse(JSON.parse(message.payload)).success).toBe(true);
      const result = cleanMessage({ topic: message.topic, payload: message.payload, messageId: 'm', receivedAt }, { lookupAsset });
      expect(result.quarantine).toEqual([]);
    }
    const codes = new Set(messages.flatMap(({ message }) => {
      const body = JSON.parse(message.payload) as { code?: string; events?: { code: string }[] };
      return body.events ? body.events.map((e) => e.code) : [body.code!];
    }));
    expect([...codes].some((c) => c === 'COMM_RETRY' || c === 'WATCHDOG_RESET')).toBe(true);
  });

  it('raises the worn component’s codes more often, and more severely, as it wears', () => {
    // Act
    const events = run(PUMPS, 320, true)
      .filter((x) => isEvents(x.message) && x.message.assetId === 'pump-001')
      .flatMap(({ message, tick }) => {
        const body = JSON.parse(message.payload) as { events?: { code: string; severity: string }[]; code?: string; severity?: string };
        return (body.events ?? [{ code: body.code!, severity: body.severity! }]).map((e) => ({ ...e, tick }));
      });
    const bearing = events.filter((e) => e.code === 'bearing_overtemp' || e.code === 'vibration_high');
    const early = bearing.filter((e) => e.tick < 120).length;
    const late = bearing.filter((e) => e.tick >= 220).length;
    // Assert
    expect(late).toBeGreaterThan(3 * Math.max(1, early));
    expect(bearing.some((e) => e.severity === 'critical')).toBe(true);
    expect(bearing.filter((e) => e.tick < 120).every((e) => e.severity !== 'critical')).toBe(true);
  });

  it('makes the twin’s event counts of a wearing asset rise before it fails', () => {
    // Arrange
    const messages = run(PUMPS, 318, true).map(({ message, receivedAt }, i) => ({ ...message, messageId: `m${i}`, receivedAt }));
    const pump = getAssetModel('centrifugal-pump');
    // Act
    const result = processMessages(messages, new Map(), {
      lookupAsset: fleetLookup(PUMPS),
      baselineFor: (m) => DEFAULT_BASELINES[m.id]!,
    });
    // Assert
    const names = featureNames(pump);
    const bearingEvents24h = (assetId: string) => {
      const twin = result.twins.get(assetId)!;
      const ctx = { previousAnomaly: null, lastMaintenance: {}, firstSeen: null, attributes: {} };
      const v = featureVector(twin.features, pump, twin.lastT!, ctx);
      return v[names.indexOf('events_bearing_overtemp_24h')]! + v[names.indexOf('events_vibration_high_24h')]!;
    };
    expect(bearingEvents24h('pump-001')).toBeGreaterThan(5);
    expect(bearingEvents24h('pump-002')).toBe(0);
    expect(result.twins.get('pump-001')!.events!.at(-1)!.component).toBe('bearing');
    expect(result.counts.events!.clean).toBe(result.counts.events!.received);
  });

  it('rejects event rates that are not probabilities with a named error', () => {
    // Act / Assert
    expect(() => new FleetSimulator(PUMPS, { events: { noiseRate: 2 } })).toThrow(DeviceEventOptionsError);
    expect(() => new FleetSimulator(PUMPS, { events: { wearRate: Number.NaN } })).toThrow(DeviceEventOptionsError);
  });
});
