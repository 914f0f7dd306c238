import { describe, expect, it } from 'vitest';
import { createFleet, FleetSimulator } from '../../devices/fleet.ts';
import { ScenarioError } from '../../devices/scenario.ts';

type Sample = { assetId: string; topic: string; readings?: Record<string, number>; kind?: string };

function run(scenario: boolean, ticks: number, atTick = 100): Sample[][] {
  const fleet = createFleet({ assets: 4, seed: 3, models: ['centrifugal-pump'], failingShare: 1 });
  const sim = new FleetSimulator(fleet, { seed: 3, ...(scenario ? { scenario: { name: 'drift' as const, atTick } } : {}) });
  return Array.from({ length: ticks }, () =>
    sim.step().map((m) => ({ assetId: m.assetId, topic: m.topic, ...(JSON.parse(m.payload) as { readings?: Record<string, number>; kind?: string }) })),
  );
}

const mean = (xs: number[]) => xs.reduce((a, v) => a + v, 0) / xs.length;

describe('drift scenario', () => {
  it('leaves every sample before the first replacement and the drift tick as the default run makes it', () => {
    const firstReplacement = run(false, 400).findIndex((tick) => tick.some((m) => m.topic.endsWith('/maintenance')));
    expect(firstReplacement).toBeGreaterThan(50);
    const upTo = Math.min(firstReplacement, 100);
    expect(run(true, upTo)).toEqual(run(false, upTo));
  });

  it('shifts the load-driven sensors of every pump from the drift tick on (a lower throughput setpoint)', () => {
    const ticks = run(true, 400, 200);
    const flow = (from: number, to: number) =>
      mean(ticks.slice(from, to).flatMap((t) => t.filter((m) => m.topic.endsWith('/telemetry')).map((m) => m.readings!.flow!)));
    expect(flow(200, 344)).toBeLessThan(0.85 * flow(56, 200));
  });

  it('makes wear recur: a wearing pump is replaced more than once', () => {
    const replacements = run(true, 1500).flat().filter((m) => m.kind === 'replacement');
    const perAsset = new Map<string, number>();
    for (const r of replacements) perAsset.set(r.assetId, (perAsset.get(r.assetId) ?? 0) + 1);
    expect(Math.max(...perAsset.values())).toBeGreaterThan(1);
    expect(run(false, 1500).flat().filter((m) => m.kind === 'replacement')).toHaveLength(4);
  });

  it('is deterministic for a seed', () => {
    expect(run(true, 300, 50)).toEqual(run(true, 300, 50));
  });

  it('refuses a negative drift tick with a named error', () => {
    expect(() => new FleetSimulator(createFleet({ assets: 1 }), { scenario: { name: 'drift', atTick: -1 } })).toThrow(ScenarioError);
  });
});
