import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getAssetModel } from '../../../lambdas/core/catalog/index.ts';
import { loadXgboostModel, predict } from '../../../lambdas/core/model/index.ts';
import { createBundleScorer } from '../../../lambdas/core/model/scorer.ts';
import type { Twin } from '../../../lambdas/core/twin/twin.ts';
import { gateArtifact } from '../../../ml/bundle/gate.ts';
import { DEFAULT_BUNDLE_DIR, readBundle } from '../../../ml/bundle/read.ts';
import { replayFeatures } from '../../../ml/features/replay.ts';
import { cmapssCycleTs } from '../../../ml/datasets/cmapss.ts';
import { pumpFleet, simulatePumps } from '../../../ml/train/pump.ts';
import { turbofanTrainingMatrix } from '../../../ml/train/turbofan.ts';
import { fixturePredictors } from './fixtures.ts';

function sizeOf(dir: string): number {
  return readdirSync(dir).reduce((s, name) => {
    const p = join(dir, name);
    return s + (statSync(p).isDirectory() ? sizeOf(p) : statSync(p).size);
  }, 0);
}

describe('the default bundle (layers/model)', () => {
  // The budget bounds the Lambda layer and the cold start (load + verify + compile of every predictor,
  // 217 ms for the 9.8 MB bundle on this machine). It was 5 MB until the turbofan RUL model became the mean
  // of 5 fold models (1.9 → 7.7 MB, docs/cmapss.md); Lambda allows 250 MB unzipped for code and layers.
  it('loads, verifies every sha256 and stays under 12 MB', () => {
    const bundle = readBundle(DEFAULT_BUNDLE_DIR);

    expect(bundle.models.get('centrifugal-pump')?.failure).not.toBeNull();
    expect(bundle.models.get('centrifugal-pump')?.rul).not.toBeNull();
    expect(sizeOf(DEFAULT_BUNDLE_DIR)).toBeLessThan(12 * 1024 * 1024);
  });

  it('scores a freshly simulated pump: high risk and a short RUL hours before failure, low when healthy', () => {
    const bundle = readBundle(DEFAULT_BUNDLE_DIR);
    const pump = getAssetModel('centrifugal-pump');
    const fleet = pumpFleet(1, 99); // a seed the bundle was not trained on
    const { events, failAt } = simulatePumps(fleet, 99);
    const { rows } = replayFeatures(pump, fleet[0]!, events.get(fleet[0]!.assetId)!);
    const fail = failAt.get(fleet[0]!.assetId)!;
    const late = rows.filter((r) => r.t < fail && fail - r.t <= 6 * 3_600_000);
    const healthy = rows.filter((r) => r.t < fail && fail - r.t >= 9 * 86_400_000);

    const scorer = createBundleScorer(bundle);
    const pLate = scorer(pump, {} as Twin, late);
    const pHealthy = scorer(pump, {} as Twin, healthy);

    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(late.length).toBeGreaterThan(10);
    expect(healthy.length).toBeGreaterThan(10);
    expect(mean(pLate.map((p) => p!.failureProbability!))).toBeGreaterThan(0.8);
    expect(mean(pHealthy.map((p) => p!.failureProbability!))).toBeLessThan(0.1);
    expect(mean(pLate.map((p) => p!.rul!))).toBeLessThan(mean(pHealthy.map((p) => p!.rul!)));
    const explained = pLate.filter((p) => p!.topContributors);
    expect(explained.length).toBeGreaterThan(0);
    for (const p of explained) expect(Object.keys(pump.sensors)).toContain(p!.topContributors![0]!.sensor);
  });
});

describe('gateArtifact', () => {
  const json = fixturePredictors().predictors[0]!.modelJson;

  it('rewrites a one-element base_score array to the scalar form and scores the same', () => {
    const arrayForm = json.replace(/"base_score":"([^"]+)"/, '"base_score":"[$1]"');

    const gated = gateArtifact(arrayForm);

    expect(arrayForm).not.toBe(json);
    expect(gated.rewroteBaseScore).toBe(true);
    expect(gated.bytes).toBe(json);
    const row = [11, 9, Number.NaN, 3, 1, 0.5];
    expect(predict(loadXgboostModel(gated.bytes), row)).toBe(predict(loadXgboostModel(json), row));
  });

  it('passes a scalar base_score through untouched', () => {
    const gated = gateArtifact(json);

    expect(gated.rewroteBaseScore).toBe(false);
    expect(gated.bytes).toBe(json);
  });

  it('refuses a legacy binary model', () => {
    expect(() => gateArtifact(new TextEncoder().encode('binf\u0000\u0000\u0000'))).toThrow(/legacy|binf/i);
  });
});

describe('turbofanTrainingMatrix', () => {
  it('keys each row by engine and by the event time the replay gives its cycle', () => {
    const set = {
      names: ['a', 'b'],
      engines: [
        { unit: 7, cycles: [1, 2], vectors: [Float64Array.of(1, 10), Float64Array.of(2, 20)] },
        { unit: 3, cycles: [1], vectors: [Float64Array.of(3, 30)] },
      ],
    };
    const m = turbofanTrainingMatrix(set, ['b'], 's');
    expect(Array.from(m.x)).toEqual([10, 20, 30]);
    expect(Array.from(m.keys!.asset)).toEqual([7, 7, 3]);
    // One cycle an hour: the drift window's 24 h are 24 cycles, as `pdm replay cmapss` feeds the monitor.
    expect(Array.from(m.keys!.t)).toEqual([cmapssCycleTs(1), cmapssCycleTs(2), cmapssCycleTs(1)]);
    expect(cmapssCycleTs(2) - cmapssCycleTs(1)).toBe(3_600_000);
  });
});
