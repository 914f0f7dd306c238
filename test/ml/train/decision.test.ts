import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultAlertPolicy } from '../../../lambdas/core/alerts/policy.ts';
import { calibrate, calibrationSchema } from '../../../lambdas/core/model/decision.ts';
import { defaultHealthPolicy } from '../../../lambdas/core/twin/health.ts';
import {
  chooseThresholds,
  type DecisionSeries,
  DecisionInputError,
  fitIsotonic,
  simulateAlerts,
  type ThresholdOptions,
} from '../../../ml/train/decision.ts';

const HOUR = 3_600_000;

const opts: ThresholdOptions = {
  health: defaultHealthPolicy('time'),
  alert: defaultAlertPolicy('time', 1_000),
  downtime: { unplanned: 24, planned: 4 },
  horizon: 72 * HOUR,
  describe: 'a test series',
};

/** Hourly series over `days` whose probability ramps up over the 30 h before each failure. */
function series(key: string, days: number, failures: number[], noise: (h: number) => number): DecisionSeries {
  const t: number[] = [];
  const p: number[] = [];
  for (let h = 0; h < days * 24; h++) {
    const at = h * HOUR;
    t.push(at);
    const next = failures.find((f) => f > at);
    const ramp = next !== undefined && next - at <= 30 * HOUR ? 0.3 * (1 - (next - at) / (30 * HOUR)) + 0.1 : 0;
    p.push(Math.min(1, ramp + noise(h)));
  }
  return { key, t, p, failures };
}

describe('fitIsotonic', () => {
  it('fits a non-decreasing map that the manifest schema accepts, with pooled blocks of at least the minimum size', () => {
    const raw = Array.from({ length: 2_000 }, (_, i) => (i * 7919) % 2_000 / 2_000);
    const y = raw.map((r, i) => (r > 0.9 && i % 3 !== 0 ? 1 : r > 0.6 && i % 11 === 0 ? 1 : 0));

    const c = fitIsotonic(raw, y, { minBlockRows: 50 });

    expect(() => calibrationSchema.parse(c)).not.toThrow();
    expect(c.rows).toBe(2_000);
    expect(c.positives).toBe(y.reduce((a: number, v) => a + v, 0));
    expect(calibrate(c, 0.1)).toBeLessThan(0.05);
    expect(calibrate(c, 0.95)).toBeGreaterThan(0.5);
  });

  it('gives a map whose mean matches the label rate on the data it was fitted on', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean()), { minLength: 30, maxLength: 300 }), (pairs) => {
        const raw = pairs.map(([r]) => r);
        const y = pairs.map(([, b]) => (b ? 1 : 0));
        const c = fitIsotonic(raw, y, { minBlockRows: 1 });
        const ys = c.method === 'isotonic' ? c.y : [];
        return ys.every((v, i) => i === 0 || v >= ys[i - 1]!) && ys.every((v) => v >= 0 && v <= 1);
      }),
    );
  });

  it('refuses mismatched or empty input with a named error', () => {
    expect(() => fitIsotonic([0.1], [])).toThrow(DecisionInputError);
    expect(() => fitIsotonic([], [])).toThrow(DecisionInputError);
  });
});

describe('simulateAlerts', () => {
  it('counts a failure as caught only when an alert precedes it within the horizon, and other alerts as false', () => {
    const s = series('m1', 20, [10 * 24 * HOUR], () => 0);
    // A spurious burst on day 3, far from any failure.
    const p = [...(s.p as number[])];
    for (let h = 72; h < 76; h++) p[h] = 0.5;
    const sim = simulateAlerts([{ ...s, p }], 0.2, opts);

    expect(sim.failures).toBe(1);
    expect(sim.caught).toBe(1);
    expect(sim.falseAlerts).toBe(1);
    expect(sim.costHours).toBe(0 * 24 + (1 + 1) * 4);
  });

  it('catches nothing when the threshold is above every probability', () => {
    const sim = simulateAlerts([series('m1', 20, [10 * 24 * HOUR], () => 0)], 0.9, opts);
    expect(sim).toMatchObject({ failures: 1, caught: 0, alerts: 0, costHours: 24 });
  });
});

describe('chooseThresholds', () => {
  it('puts WARNING where failures are caught without the noise floor paging anybody', () => {
    const noise = (h: number) => ((h * 2654435761) % 1000) / 1000 * 0.05;
    const all = [
      series('a', 30, [5 * 24 * HOUR, 20 * 24 * HOUR], noise),
      series('b', 30, [12 * 24 * HOUR], noise),
      series('c', 30, [], noise),
    ];

    const choice = chooseThresholds(all, opts);

    expect(choice.warning.caught).toBe(3);
    expect(choice.warning.falseAlerts).toBe(0);
    expect(choice.thresholds.warning).toBeGreaterThan(0.05);
    expect(choice.thresholds.watch).toBeLessThan(choice.thresholds.warning);
    expect(choice.thresholds.critical).toBeGreaterThan(choice.thresholds.warning);
    expect(choice.thresholds.basis).toMatch(/3\/3 failures caught/);
  });
});
