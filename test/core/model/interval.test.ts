import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RulInterval, rulBounds, rulIntervalSchema } from '../../../lambdas/core/model/interval.ts';
import { rulFields } from '../../../lambdas/core/model/scorer.ts';
import type { BundlePredictor } from '../../../lambdas/core/model/bundle.ts';
import { ConformalInputError, fitRulInterval } from '../../../ml/train/conformal.ts';

const INTERVAL: RulInterval = {
  method: 'split-conformal',
  level: 0.9,
  edges: [30, 80],
  bins: [
    { lower: -5, upper: 6, n: 300 },
    { lower: -15, upper: 14, n: 300 },
    { lower: -30, upper: 20, n: 300 },
  ],
  calibrationRows: 900,
  calibration: 'test',
};

describe('rulBounds', () => {
  it('adds the residual quantiles of the prediction’s bin, floors at 0 and holds the upper bound at the cap', () => {
    expect(rulBounds(INTERVAL, 10)).toEqual({ lower: 5, upper: 16 });
    expect(rulBounds(INTERVAL, 2)).toEqual({ lower: 0, upper: 8 });
    expect(rulBounds(INTERVAL, 30)).toEqual({ lower: 15, upper: 44 });
    expect(rulBounds(INTERVAL, 120, 125)).toEqual({ lower: 90, upper: 125 });
    expect(rulBounds(INTERVAL, 120)).toEqual({ lower: 90, upper: 140 });
  });
});

describe('rulIntervalSchema', () => {
  it('refuses bins that do not match the edges, falling edges and a lower above the upper', () => {
    expect(rulIntervalSchema.safeParse(INTERVAL).success).toBe(true);
    expect(rulIntervalSchema.safeParse({ ...INTERVAL, edges: [30] }).success).toBe(false);
    expect(rulIntervalSchema.safeParse({ ...INTERVAL, edges: [80, 30] }).success).toBe(false);
    expect(
      rulIntervalSchema.safeParse({ ...INTERVAL, bins: [INTERVAL.bins[0], INTERVAL.bins[1], { lower: 3, upper: 1, n: 9 }] })
        .success,
    ).toBe(false);
  });
});

describe('rulFields', () => {
  it('gives the floored RUL and its interval, and null bounds for a predictor without one', () => {
    const withInterval = { entry: { interval: INTERVAL, rulCap: 125 } } as unknown as BundlePredictor;
    const without = { entry: {} } as unknown as BundlePredictor;
    expect(rulFields(withInterval, -3)).toEqual({ rul: 0, rulLower: 0, rulUpper: 6 });
    expect(rulFields(without, 50)).toEqual({ rul: 50, rulLower: null, rulUpper: null });
    expect(rulFields(null, undefined)).toEqual({ rul: null, rulLower: null, rulUpper: null });
  });
});

describe('fitRulInterval', () => {
  it('covers at least the nominal share of its calibration rows in every bin', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0, max: 125, noNaN: true }), fc.double({ min: -40, max: 40, noNaN: true })), {
          minLength: 400,
          maxLength: 800,
        }),
        (rows) => {
          // Arrange
          const pred = rows.map(([p]) => p);
          const truth = rows.map(([p, e]) => p + e * (1 + p / 50));
          // Act
          const interval = fitRulInterval(pred, truth, 'random');
          // Assert: per bin, the share of rows inside the (unfloored, uncapped) interval is ≥ level.
          const inBin = interval.bins.map(() => ({ n: 0, covered: 0 }));
          pred.forEach((p, i) => {
            let k = 0;
            while (k < interval.edges.length && p >= interval.edges[k]!) k++;
            const b = interval.bins[k]!;
            inBin[k]!.n++;
            const r = truth[i]! - p;
            if (r >= b.lower && r <= b.upper) inBin[k]!.covered++;
          });
          for (const [k, c] of inBin.entries()) {
            expect(c.n).toBe(interval.bins[k]!.n);
            expect(c.covered / c.n).toBeGreaterThanOrEqual(0.9);
          }
          expect(interval.bins.reduce((s, b) => s + b.n, 0)).toBe(rows.length);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('names the problem for mismatched, non-finite or too few rows', () => {
    expect(() => fitRulInterval([1, 2], [1], 'x')).toThrow(ConformalInputError);
    expect(() => fitRulInterval([Number.NaN], [1], 'x')).toThrow(ConformalInputError);
    expect(() => fitRulInterval([1, 2, 3], [1, 2, 3], 'x')).toThrow(/at least/);
  });
});
