import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { averagePrecision, rocAuc } from '../../../ml/evaluate/metrics.ts';
import { curvesFromScores } from '../../../ml/report/curves.ts';
import { ReportInputError } from '../../../ml/report/svg.ts';

const data = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 1 })), { minLength: 2, maxLength: 200 })
  .filter((rows) => rows.some((r) => r[1] === 1) && rows.some((r) => r[1] === 0));

describe('curvesFromScores', () => {
  it('traces the ROC and PR steps of a hand-worked example', () => {
    // Arrange: ranking pos, neg, pos, neg.
    const scores = [0.9, 0.8, 0.7, 0.6];
    const labels = [1, 0, 1, 0];
    // Act
    const c = curvesFromScores(scores, labels);
    // Assert
    expect(c.roc).toEqual([
      { x: 0, y: 0 },
      { x: 0, y: 0.5 },
      { x: 0.5, y: 0.5 },
      { x: 0.5, y: 1 },
      { x: 1, y: 1 },
    ]);
    expect(c.pr).toEqual([
      { x: 0, y: 1 },
      { x: 0.5, y: 1 },
      { x: 0.5, y: 0.5 },
      { x: 1, y: 2 / 3 },
      { x: 1, y: 0.5 },
    ]);
    expect(c.prevalence).toBe(0.5);
  });

  it('agrees with the metric code: trapezoid area of ROC = ROC AUC, step sum of PR = average precision', () => {
    fc.assert(
      fc.property(data, (rows) => {
        const scores = rows.map((r) => r[0] / 20);
        const labels = rows.map((r) => r[1]);
        const c = curvesFromScores(scores, labels);
        let area = 0;
        for (let i = 1; i < c.roc.length; i++) {
          area += ((c.roc[i]!.x - c.roc[i - 1]!.x) * (c.roc[i]!.y + c.roc[i - 1]!.y)) / 2;
        }
        let ap = 0;
        for (let i = 1; i < c.pr.length; i++) ap += (c.pr[i]!.x - c.pr[i - 1]!.x) * c.pr[i]!.y;
        expect(area).toBeCloseTo(rocAuc(scores, labels), 9);
        expect(ap).toBeCloseTo(averagePrecision(scores, labels), 9);
      }),
      { numRuns: 200 },
    );
  });

  it('thins long curves to maxPoints and keeps both ends', () => {
    const n = 5000;
    const scores = Array.from({ length: n }, (_, i) => i / n);
    const labels = scores.map((_, i) => (i % 3 === 0 ? 1 : 0));
    const c = curvesFromScores(scores, labels, 100);
    expect(c.roc).toHaveLength(100);
    expect(c.roc[0]).toEqual({ x: 0, y: 0 });
    expect(c.roc[99]).toEqual({ x: 1, y: 1 });
  });

  it('returns empty curves when one class is missing, and rejects bad input', () => {
    expect(curvesFromScores([0.1, 0.2], [0, 0]).roc).toEqual([]);
    expect(() => curvesFromScores([0.1, Number.NaN], [0, 1])).toThrow(ReportInputError);
    expect(() => curvesFromScores([0.1, 0.2], [0, 2])).toThrow(/0 or 1/);
    expect(() => curvesFromScores([0.1], [0, 1])).toThrow(/1 scores for 2 labels/);
  });
});
