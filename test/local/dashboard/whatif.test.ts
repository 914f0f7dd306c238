import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFleet } from '../../../devices/fleet.ts';
import { DEFAULT_BASELINES } from '../../../lambdas/core/anomaly/index.ts';
import { getAssetModel } from '../../../lambdas/core/catalog/index.ts';
import { featureLayout } from '../../../lambdas/core/features/index.ts';
import { createBundleScorer } from '../../../lambdas/core/model/scorer.ts';
import type { RowScorer } from '../../../lambdas/core/pipeline.ts';
import type { FeatureRow, Twin } from '../../../lambdas/core/twin/twin.ts';
import { newTwin } from '../../../lambdas/core/twin/twin.ts';
import { readBundle } from '../../../ml/bundle/read.ts';
import { MemoryDashboardSource } from '../../../local/dashboard/memory-source.ts';
import { projectWhatIf, WhatIfInputError } from '../../../local/dashboard/whatif.ts';

const HOUR = 3_600_000;
const TURBOFAN = getAssetModel('turbofan');
const PUMP = getAssetModel('centrifugal-pump');
const scorer = createBundleScorer(readBundle());

/** Wraps the real scorer and keeps the rows it was asked to score. */
function recording(): { scorer: RowScorer; rows: FeatureRow[] } {
  const rows: FeatureRow[] = [];
  return {
    rows,
    scorer: (model, twin, r) => {
      rows.push(...r);
      return scorer(model, twin, r);
    },
  };
}

describe('projectWhatIf', () => {
  // engine-003 carries injected hpc wear that fails at tick 114; pump-001's bearing fails at tick 94 and
  // is replaced (a maintenance message), so at tick 100 it has a lastMaintenance to age from.
  let engine: Twin;
  let pump: Twin;

  beforeAll(async () => {
    const fleet = createFleet({ assets: 6, seed: 1, failingShare: 0.5, degradationTicks: 60 });
    expect(fleet.find((a) => a.assetId === 'engine-003')?.degradation).toMatchObject({ component: 'hpc', failTick: 114 });
    const source = new MemoryDashboardSource({ fleet });
    source.step(90);
    engine = (await source.twin('engine-003'))!;
    source.step(10);
    pump = (await source.twin('pump-001'))!;
  });

  it('projects a degrading engine toward failure: probability rises, RUL falls', () => {
    // Arrange: 24 cycles before the injected failure, i.e. 2 days at 12 cycles a day.
    const input = { twin: engine, model: TURBOFAN, scorer, component: 'hpc', deferDays: 14 };

    // Act
    const r = projectWhatIf(input);

    // Assert: non-decreasing up to small reversals (trees are step functions of the features).
    const p = r.points.map((x) => x.failureProbability!);
    expect(r.points).toHaveLength(15);
    expect(p.at(-1)! - p[0]!).toBeGreaterThan(0.5);
    const drops = p.slice(1).filter((x, i) => x < p[i]! - 0.05).length;
    expect(drops).toBeLessThanOrEqual(2);
    expect(r.points.at(-1)!.rul!).toBeLessThan(r.points[0]!.rul! / 2);
    expect(r.method).toMatch(/slope/);
  });

  it('gives the same day-N prediction whatever the deferral beyond N, so deferring longer never lowers the peak', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 8 }), (short, extra) => {
        const a = projectWhatIf({ twin: engine, model: TURBOFAN, scorer, component: 'hpc', deferDays: short });
        const b = projectWhatIf({ twin: engine, model: TURBOFAN, scorer, component: 'hpc', deferDays: short + extra });
        expect(b.points.slice(0, short + 1)).toEqual(a.points);
        const peak = (r: typeof a) => Math.max(...r.points.map((x) => x.failureProbability ?? 0));
        expect(peak(b)).toBeGreaterThanOrEqual(peak(a));
      }),
      { numRuns: 8 },
    );
  });

  it('leaves the twin untouched', () => {
    const before = JSON.stringify(engine);
    projectWhatIf({ twin: engine, model: TURBOFAN, scorer, component: 'fan', deferDays: 5 });
    expect(JSON.stringify(engine)).toBe(before);
  });

  it('converts days to cycles through the hours per cycle', () => {
    const rec = recording();
    projectWhatIf({ twin: engine, model: TURBOFAN, scorer: rec.scorer, component: 'hpc', deferDays: 3, hoursPerCycle: 4 });
    expect(rec.rows.map((r) => r.t - engine.lastT!)).toEqual([0, 6, 12, 18]);
  });

  it('moves each trending sensor in the direction of its long-window slope', () => {
    const rec = recording();
    projectWhatIf({ twin: engine, model: TURBOFAN, scorer: rec.scorer, component: 'hpc', deferDays: 10 });
    const layout = featureLayout(TURBOFAN);
    const at = (name: string) => layout.names.indexOf(name);
    const first = rec.rows[0]!.vector;
    const last = rec.rows.at(-1)!.vector;
    let checked = 0;
    for (const s of layout.sensors) {
      const slope = first[at(`${s}_slope_30c`)]!;
      const spread = first[at(`${s}_std_15c`)]!;
      // Only sensors whose trend over 120 cycles clearly exceeds their noise, and away from range limits.
      if (!(Math.abs(slope) * 120 > 3 * spread)) continue;
      const moved = last[at(`${s}_mean_5c`)]! - first[at(`${s}_mean_5c`)]!;
      const spec = TURBOFAN.sensors[s]!;
      if (last[at(`${s}_mean_5c`)] === spec.min || last[at(`${s}_mean_5c`)] === spec.max) continue;
      expect(Math.sign(moved), s).toBe(Math.sign(slope));
      checked += 1;
    }
    expect(checked).toBeGreaterThan(2);
  });

  it('steps time models at the observed interval and lets since-maintenance grow by a day per day', () => {
    // Arrange: the pump samples every 10 minutes; its bearing was replaced at tick 94.
    const rec = recording();
    expect(pump.components.bearing!.lastMaintenance).not.toBeNull();

    // Act
    const r = projectWhatIf({ twin: pump, model: PUMP, scorer: rec.scorer, component: 'bearing', deferDays: 4 });

    // Assert
    const since = featureLayout(PUMP).names.indexOf('since_maint_bearing_h');
    expect(rec.rows.map((row) => (row.t - pump.lastT!) / HOUR)).toEqual([0, 24, 48, 72, 96]);
    const ages = rec.rows.map((row) => row.vector[since]!);
    for (let d = 1; d < ages.length; d++) expect(ages[d]! - ages[d - 1]!).toBeCloseTo(24, 9);
    expect(r.method).toMatch(/every 10 min/);
    expect(r.points.every((p) => p.componentFailure === null)).toBe(true); // no pump component models
  });

  it.each([
    [{ component: 'wing' }, /unknown component "wing"/],
    [{ deferDays: 0 }, /deferDays must be a whole number from 1 to 90/],
    [{ deferDays: 91 }, /deferDays/],
    [{ deferDays: 2.5 }, /deferDays/],
  ])('rejects %o with a clear reason', (override, message) => {
    const input = { twin: engine, model: TURBOFAN, scorer, component: 'hpc', deferDays: 3, ...override };
    expect(() => projectWhatIf(input)).toThrow(WhatIfInputError);
    expect(() => projectWhatIf(input)).toThrow(message);
  });

  it('refuses a twin without telemetry', () => {
    const empty = newTwin({ assetId: 'engine-x', siteId: 's', modelId: 'turbofan' }, TURBOFAN, DEFAULT_BASELINES.turbofan!);
    expect(() => projectWhatIf({ twin: empty, model: TURBOFAN, scorer, component: 'hpc', deferDays: 3 })).toThrow(
      /has no telemetry yet/,
    );
  });
});
