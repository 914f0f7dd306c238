import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AlertThresholds,
  alertThresholdsSchema,
  calibrate,
  calibrationSchema,
  riskFromProbability,
} from '../../../lambdas/core/model/decision.ts';

const anchors = { WATCH: 0.5, WARNING: 0.7, CRITICAL: 0.9 } as const;
const thresholds: AlertThresholds = { watch: 0.05, warning: 0.12, critical: 0.4, basis: 'test' };

describe('calibrate', () => {
  it('interpolates an isotonic map linearly and clamps outside its range', () => {
    const c = calibrationSchema.parse({ method: 'isotonic', x: [0.1, 0.5, 0.9], y: [0, 0.2, 0.6], rows: 10, positives: 2 });

    expect(calibrate(c, 0)).toBe(0);
    expect(calibrate(c, 0.3)).toBeCloseTo(0.1, 12);
    expect(calibrate(c, 0.7)).toBeCloseTo(0.4, 12);
    expect(calibrate(c, 1)).toBe(0.6);
  });

  it('applies Platt scaling on the logit of the raw output', () => {
    const c = { method: 'platt', a: 1, b: 0, rows: 10, positives: 2 } as const;

    expect(calibrate(calibrationSchema.parse(c), 0.3)).toBeCloseTo(0.3, 9);
    expect(calibrate({ ...c, b: Math.log(1 / 3) }, 0.5)).toBeCloseTo(0.25, 9);
  });

  it('returns the raw output without a calibration, and NaN for a non-finite output', () => {
    expect(calibrate(undefined, 0.42)).toBe(0.42);
    expect(calibrate(undefined, Number.NaN)).toBeNaN();
  });

  it('is monotone for any isotonic map', () => {
    const map = fc
      .uniqueArray(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 })
      .chain((xs) =>
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: xs.length, maxLength: xs.length }).map((ys) => ({
          method: 'isotonic' as const,
          x: [...xs].sort((a, b) => a - b),
          y: [...ys].sort((a, b) => a - b),
          rows: 1,
          positives: 0,
        })),
      );
    fc.assert(
      fc.property(map, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (c, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        return calibrate(c, lo) <= calibrate(c, hi) + 1e-15;
      }),
    );
  });

  it('rejects a map whose x is not increasing or whose y falls', () => {
    expect(() => calibrationSchema.parse({ method: 'isotonic', x: [0.5, 0.1], y: [0, 1], rows: 1, positives: 1 })).toThrow(
      /strictly increasing/,
    );
    expect(() => calibrationSchema.parse({ method: 'isotonic', x: [0.1, 0.5], y: [1, 0], rows: 1, positives: 1 })).toThrow(
      /non-decreasing/,
    );
  });
});

describe('riskFromProbability', () => {
  it('puts each threshold on its health anchor', () => {
    expect(riskFromProbability(thresholds.watch, thresholds, anchors)).toBeCloseTo(0.5, 12);
    expect(riskFromProbability(thresholds.warning, thresholds, anchors)).toBeCloseTo(0.7, 12);
    expect(riskFromProbability(thresholds.critical, thresholds, anchors)).toBeCloseTo(0.9, 12);
    expect(riskFromProbability(0, thresholds, anchors)).toBe(0);
    expect(riskFromProbability(1, thresholds, anchors)).toBe(1);
  });

  it('never gives a lower risk for a higher probability', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        return riskFromProbability(lo, thresholds, anchors) <= riskFromProbability(hi, thresholds, anchors);
      }),
    );
  });

  it('rejects thresholds out of order', () => {
    expect(() => alertThresholdsSchema.parse({ watch: 0.2, warning: 0.1, critical: 0.5, basis: '' })).toThrow(/watch < warning/);
  });
});
