import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { averagePrecision, bestF1Threshold, meanSd, metricsAt, rocAuc } from '../../../ml/evaluate/metrics.ts';

describe('evaluation metrics', () => {
  it('computes average precision and ROC AUC of a hand-worked ranking', () => {
    const score = [0.9, 0.8, 0.7, 0.6];
    const y = [1, 0, 1, 0];
    // Recall steps of 1/2 at precision 1/1 and 2/3.
    expect(averagePrecision(score, y)).toBeCloseTo(0.5 + (0.5 * 2) / 3, 12);
    // 3 of the 4 positive/negative pairs are ordered correctly.
    expect(rocAuc(score, y)).toBe(0.75);
  });

  it('counts tied scores as one threshold', () => {
    expect(averagePrecision([0.5, 0.5], [1, 0])).toBe(0.5);
  });

  it('picks a threshold whose F1 no other cut beats', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.boolean()), { minLength: 1, maxLength: 40 }),
        (pairs) => {
          const score = pairs.map((p) => p[0] / 20);
          const y = pairs.map((p) => (p[1] ? 1 : 0));
          const best = bestF1Threshold(score, y);
          if (!y.includes(1)) {
            expect(best.f1).toBe(0);
            return;
          }
          expect(metricsAt(score, y, best.threshold).f1).toBeCloseTo(best.f1, 12);
          for (const s of score) expect(metricsAt(score, y, s).f1).toBeLessThanOrEqual(best.f1 + 1e-12);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reports the sample standard deviation', () => {
    expect(meanSd([1, 2, 3, 4])).toEqual({ mean: 2.5, sd: Math.sqrt(5 / 3) });
  });
});
