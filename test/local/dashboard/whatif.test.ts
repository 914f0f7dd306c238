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
import type { ModelBundle } from '../../../lambdas/core/model/bundle.ts';
import { readBundle } from '../../../ml/bundle/read.ts';
import { pumpFleet } from '../../../ml/train/pump.ts';
import { readFeatureRanges } from '../../../local/dashboard/feature-ranges.ts';
import { MemoryDashboardSource } from '../../../local/dashboard/memory-source.ts';
import type { WhatIfResult } from '../../../local/dashboard/source.ts';
import { projectWhatIf, WhatIfInputError } from '../../../local/dashboard/whatif.ts';

const HOUR = 3_600_000;
const TURBOFAN = getAssetModel('turbofan');
const PUMP = getAssetModel('centrifugal-pump');
const bundle = readBundle();
const scorer = createBundleScorer(bundle);

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

/** Deferring maintenance must never look safer than maintaining now, day by day. */
function expectNeverSafer(r: WhatIfResult): void {
  r.points.forEach((x, d) => {
    expect(x.day).toBe(d);
    if (d === 0) return;
    const prev = r.points[d - 1]!;
    expect(x.risk, `risk on day ${d}`).toBeGreaterThanOrEqual(prev.risk);
    if (prev.failureProbability !== null) expect(x.failureProbability!).toBeGreaterThanOrEqual(prev.failureProbability);
    if (prev.componentFailure !== null) expect(x.componentFailure!).toBeGreaterThanOrEqual(prev.componentFailure);
    if (prev.rul !== null) expect(x.rul!).toBeLessThanOrEqual(prev.rul);
  });
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

  it('projects a degrading engine toward failure: probability rises, RUL falls, neither turns back', () => {
    // Arrange: 24 cycles before the injected failure, i.e. 2 days at 12 cycles a day.
    const input = { twin: engine, model: TURBOFAN, bundle, scorer, component: 'hpc', deferDays: 14 };

    // Act
    const r = projectWhatIf(input);

    // Assert
    const p = r.points.map((x) => x.failureProbability!);
    expect(r.points).toHaveLength(r.projectedDays + 1);
    expect(r.projectedDays).toBeGreaterThanOrEqual(3);
    expect(p.at(-1)! - p[0]!).toBeGreaterThan(0.5);
    expectNeverSafer(r);
    expect(r.points.at(-1)!.rul!).toBeLessThan(r.points[0]!.rul! / 2);
    expect(r.method).toMatch(/slope/);
  });

  it('gives the same day-N prediction whatever the deferral beyond N, so deferring longer never lowers the peak', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 8 }), (short, extra) => {
        const a = projectWhatIf({ twin: engine, model: TURBOFAN, bundle, scorer, component: 'hpc', deferDays: short });
        const b = projectWhatIf({ twin: engine, model: TURBOFAN, bundle, scorer, component: 'hpc', deferDays: short + extra });
        expect(b.points.slice(0, a.points.length)).toEqual(a.points);
        // A longer deferral stops where the shorter one stopped, or later.
        expect(b.projectedDays).toBeGreaterThanOrEqual(a.projectedDays);
        const peak = (r: typeof a) => Math.max(...r.points.map((x) => x.failureProbability ?? 0));
        expect(peak(b)).toBeGreaterThanOrEqual(peak(a));
      }),
      { numRuns: 8 },
    );
  });

  it('leaves the twin untouched', () => {
    const before = JSON.stringify(engine);
    projectWhatIf({ twin: engine, model: TURBOFAN, bundle, scorer, component: 'hpc', deferDays: 5 });
    expect(JSON.stringify(engine)).toBe(before);
  });

  it('converts days to cycles through the hours per cycle', () => {
    const rec = recording();
    projectWhatIf({ twin: engine, model: TURBOFAN, bundle, scorer: rec.scorer, component: 'hpc', deferDays: 3, hoursPerCycle: 4 });
    expect(rec.rows.map((r) => r.t - engine.lastT!)).toEqual([0, 6, 12, 18]);
  });

  it('moves each trending sensor in the direction of its long-window slope', () => {
    const rec = recording();
    projectWhatIf({ twin: engine, model: TURBOFAN, bundle, scorer: rec.scorer, component: 'hpc', deferDays: 10 });
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
    // Stepping is what is tested here, not the training ranges: the worn pump's whole-history means
    // leave them on day 1, so this projection checks no range.
    const stored = readFeatureRanges();
    const ranges = { ...stored, [PUMP.id]: { ...stored[PUMP.id]!, ranges: {} } };
    const r = projectWhatIf({ twin: pump, model: PUMP, bundle, scorer: rec.scorer, component: 'bearing', deferDays: 4, ranges });

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
    const input = { twin: engine, model: TURBOFAN, bundle, scorer, component: 'hpc', deferDays: 3, ...override };
    expect(() => projectWhatIf(input)).toThrow(WhatIfInputError);
    expect(() => projectWhatIf(input)).toThrow(message);
  });

  it('refuses a twin without telemetry', () => {
    const empty = newTwin({ assetId: 'engine-x', siteId: 's', modelId: 'turbofan' }, TURBOFAN, DEFAULT_BASELINES.turbofan!);
    expect(() => projectWhatIf({ twin: empty, model: TURBOFAN, bundle, scorer, component: 'hpc', deferDays: 3 })).toThrow(
      /has no telemetry yet/,
    );
  });
});

describe('projectWhatIf on a CRITICAL bearing', () => {
  // A pump from the trainer's own fleet recipe (a healthy week, then 2–8 days of bearing wear) but with
  // a seed the bundle was not trained on; twins are kept every 4 h once the bearing is CRITICAL.
  const critical: Twin[] = [];

  beforeAll(async () => {
    const fleet = pumpFleet(1, 7);
    const { failTick } = fleet[0]!.degradation!;
    const source = new MemoryDashboardSource({ fleet, historyLimit: 10 });
    for (let tick = 1; tick < failTick; tick++) {
      source.step(1);
      const twin = (await source.twin('pump-001'))!;
      if (tick % 24 === 0 && twin.components.bearing!.health.state === 'CRITICAL') critical.push(twin);
    }
    expect(critical.length).toBeGreaterThan(20);
  });

  it('never shows deferring as safer: risk and p(failure) never fall, RUL never rises', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: critical.length - 1 }), fc.integer({ min: 1, max: 30 }), (i, deferDays) => {
        // Act
        const r = projectWhatIf({ twin: critical[i]!, model: PUMP, bundle, scorer, component: 'bearing', deferDays });

        // Assert
        expect(r.points.length).toBeGreaterThan(0);
        expectNeverSafer(r);
        expect(r.points[0]!.risk).toBeGreaterThanOrEqual(critical[i]!.scores!.risk);
      }),
      { numRuns: 15 },
    );
  });

  it('stops where the wear leaves the range seen in training, and says which features did', () => {
    // Arrange: the last CRITICAL twin, hours before the bearing fails.
    const twin = critical.at(-1)!;

    // Act
    const r = projectWhatIf({ twin, model: PUMP, bundle, scorer, component: 'bearing', deferDays: 14 });

    // Assert
    expect(r.limit?.reason).toBe('extrapolation');
    expect(r.projectedDays).toBeLessThan(14);
    expect(r.limit!.fromDay).toBe(r.projectedDays + 1);
    expect(r.points).toHaveLength(r.projectedDays + 1);
    const ranges = readFeatureRanges()['centrifugal-pump']!.ranges;
    for (const f of r.limit!.features!) {
      expect(f.value < f.min || f.value > f.max, f.feature).toBe(true);
      expect([f.min, f.max]).toEqual(ranges[f.feature]);
    }
    expect(r.limit!.features!.some((f) => /^(vibration|temperature)_/.test(f.feature))).toBe(true);
    expect(r.limit!.message).toContain(`day ${r.limit!.fromDay}`);
  });

  it('projects the earliest CRITICAL twin further than the latest: less wear, more days with a basis', () => {
    const days = (twin: Twin) =>
      projectWhatIf({ twin, model: PUMP, bundle, scorer, component: 'bearing', deferDays: 14 }).projectedDays;
    expect(days(critical[0]!)).toBeGreaterThan(days(critical.at(-1)!));
  });

  it('draws no line for a component no model was trained on', () => {
    const r = projectWhatIf({ twin: critical[0]!, model: PUMP, bundle, scorer, component: 'impeller', deferDays: 7 });
    expect(r).toMatchObject({ points: [], projectedDays: 0, limit: { reason: 'no-component-model', fromDay: 1 } });
    expect(r.limit!.message).toMatch(/impeller failures/);
  });

  it('draws no line when the bundle has no model for the asset model', () => {
    const empty: ModelBundle = { manifest: bundle.manifest, models: new Map() };
    const r = projectWhatIf({ twin: critical[0]!, model: PUMP, bundle: empty, scorer, component: 'bearing', deferDays: 7 });
    expect(r).toMatchObject({ points: [], projectedDays: 0, limit: { reason: 'no-model' } });
  });

  it('draws no line when the training ranges belong to other training data', () => {
    const stored = readFeatureRanges();
    const ranges = { ...stored, 'centrifugal-pump': { ...stored['centrifugal-pump']!, trainingDataHash: 'other' } };
    const r = projectWhatIf({ twin: critical[0]!, model: PUMP, bundle, scorer, component: 'bearing', deferDays: 7, ranges });
    expect(r).toMatchObject({ points: [], limit: { reason: 'no-training-ranges' } });
  });

  it('stops on the first day a feature inside its range today leaves it', () => {
    // Arrange: a range that ends at today's weekly mean of the bearing temperature, which wear raises.
    const twin = critical[0]!;
    const stored = readFeatureRanges();
    const layout = featureLayout(PUMP);
    const rec = recording();
    projectWhatIf({ twin, model: PUMP, bundle, scorer: rec.scorer, component: 'bearing', deferDays: 1 });
    const value = rec.rows[0]!.vector[layout.names.indexOf('temperature_mean_7d')]!;
    expect(Number.isFinite(value)).toBe(true);
    const pump = stored['centrifugal-pump']!;
    const ranges = {
      ...stored,
      'centrifugal-pump': { ...pump, ranges: { ...pump.ranges, temperature_mean_7d: [0, value] as [number, number] } },
    };

    // Act
    const r = projectWhatIf({ twin, model: PUMP, bundle, scorer, component: 'bearing', deferDays: 5, ranges });

    // Assert
    expect(r.projectedDays).toBe(0);
    expect(r.points).toHaveLength(1);
    expect(r.limit).toMatchObject({ reason: 'extrapolation', fromDay: 1 });
    expect(r.limit!.features!.find((f) => f.feature === 'temperature_mean_7d')).toMatchObject({ min: 0, max: value });
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('refuses the prototype name %s as a component', (component) => {
    expect(() => projectWhatIf({ twin: critical[0]!, model: PUMP, bundle, scorer, component, deferDays: 3 })).toThrow(
      new WhatIfInputError(`unknown component "${component}" for model centrifugal-pump; known: impeller, bearing, seal, motor`),
    );
  });
});
