/**
 * The shipped baselines against the product's own fleet simulator (devices/fleet.ts): healthy simulated
 * assets must stay quiet, or `npm start` and the benchmarks show alarms on machines that are fine.
 * Healthy turbofans are not checked: devices/physics.ts draws each turbofan sensor's noise independently,
 * while the FD001 baseline has strongly correlated sensors (trace(M)/p ≈ 2), so today 97 % of healthy
 * simulated turbofan samples score ≥ 0.5. That is a physics issue, reported to the lead, not the baseline's.
 */
import { describe, expect, it } from 'vitest';
import { createFleet, type FleetAsset, FleetSimulator } from '../../../devices/fleet.ts';
import { createAnomalyState, DEFAULT_BASELINES, scoreAnomaly } from '../../../lambdas/core/anomaly/index.ts';

const TICKS = 600;

/** Scores every telemetry sample of every asset, one anomaly state per asset; index = tick. */
function scoreFleet(fleet: readonly FleetAsset[], modelId: string): Map<string, number[]> {
  const baseline = DEFAULT_BASELINES[modelId]!;
  const sim = new FleetSimulator(fleet);
  const states = new Map(fleet.map((a) => [a.assetId, createAnomalyState(baseline)]));
  const scores = new Map(fleet.map((a) => [a.assetId, [] as number[]]));
  for (let t = 0; t < TICKS; t++) {
    for (const m of sim.step()) {
      const body = JSON.parse(m.payload) as { readings?: Record<string, number> };
      if (!body.readings) continue; // maintenance messages
      scores.get(m.assetId)!.push(scoreAnomaly(baseline, states.get(m.assetId)!, body.readings).score);
    }
  }
  return scores;
}

const shareAtLeast = (xs: readonly number[], t: number) => xs.filter((x) => x >= t).length / xs.length;
const mean = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

describe('shipped anomaly baselines on the simulated fleet', () => {
  it('keeps healthy simulated pumps quiet', () => {
    const fleet = createFleet({ assets: 6, failingShare: 0, models: ['centrifugal-pump'] });
    const all = [...scoreFleet(fleet, 'centrifugal-pump').values()].flat();
    expect(all).toHaveLength(6 * TICKS);
    // Calibration puts 1 % of healthy samples at ≥ 0.5; measured 0.94 % (34 of 3,600). Before the pump
    // baseline was fitted on devices/physics.ts, this was 100 %.
    expect(shareAtLeast(all, 0.5)).toBeLessThanOrEqual(0.03);
  });

  it('drives degrading pumps to CRITICAL before the bearing fails, and back to quiet after replacement', () => {
    const fleet = createFleet({ assets: 6, failingShare: 1, models: ['centrifugal-pump'] });
    const scores = scoreFleet(fleet, 'centrifugal-pump');
    for (const asset of fleet) {
      const d = asset.degradation!;
      const s = scores.get(asset.assetId)!;
      const lateFrom = Math.round(d.failTick - 0.2 * (d.failTick - d.startTick));
      // At bearing wear ≥ 0.8 the physics adds ≥ 27 °C to the temperature, about 13 of the baseline's
      // healthy SDs (2.1 °C), so the score saturates: measured 1.000 on every asset. 0.9 is CRITICAL.
      expect(mean(s.slice(lateFrom, d.failTick)), asset.assetId).toBeGreaterThan(0.9);
      // The new part is healthy again: measured 0.9–1.6 % of post-replacement samples at ≥ 0.5.
      expect(shareAtLeast(s.slice(d.failTick + 1), 0.5), asset.assetId).toBeLessThanOrEqual(0.03);
    }
  });

  it('keeps healthy simulated industrial machines quiet', () => {
    const fleet = createFleet({ assets: 6, failingShare: 0, models: ['industrial-machine'] });
    const all = [...scoreFleet(fleet, 'industrial-machine').values()].flat();
    // Azure-fitted baseline with EWMA 0.1; measured 0.08 % (3 of 3,600).
    expect(shareAtLeast(all, 0.5)).toBeLessThanOrEqual(0.03);
  });
});
