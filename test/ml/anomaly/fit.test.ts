import { describe, expect, it } from 'vitest';
import { createAnomalyState, scoreAnomaly } from '../../../lambdas/core/anomaly/index.ts';
import { CENTRIFUGAL_PUMP } from '../../../lambdas/core/catalog/index.ts';
import { FitError, fitBaseline } from '../../../ml/anomaly/fit.ts';
import { invert, symmetricEigen } from '../../../ml/anomaly/linalg.ts';
import { simulatePump } from '../../../ml/anomaly/simulate.ts';
import { auc, spearman } from '../../../ml/anomaly/stats.ts';

const A = [
  [4, 1, 0.5],
  [1, 3, 0.2],
  [0.5, 0.2, 2],
];

describe('linalg', () => {
  it('inverts a symmetric positive-definite matrix', () => {
    const inv = invert(A);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const v = A[i]!.reduce((s, a, k) => s + a * inv[k]![j]!, 0);
        expect(v).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
  });

  it('decomposes a symmetric matrix into descending eigenpairs', () => {
    const { values, vectors } = symmetricEigen(A);
    expect(values[0]).toBeGreaterThanOrEqual(values[1]!);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 3; i++) {
        const av = A[i]!.reduce((s, a, k) => s + a * vectors[k]![c]!, 0);
        expect(av).toBeCloseTo(values[c]! * vectors[i]![c]!, 10);
      }
    }
  });
});

describe('stats', () => {
  it('computes AUC with ties counted half', () => {
    expect(auc([3, 4], [1, 2])).toBe(1);
    expect(auc([1], [1])).toBe(0.5);
    expect(auc([1, 3], [2])).toBe(0.5);
  });

  it('computes Spearman on ranks', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 1000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
  });
});

describe('fitBaseline', () => {
  const healthy = simulatePump(7, 4000).rows;

  it.each(['robust-z', 'robust-z-max', 'mahalanobis', 'pca-spe'] as const)(
    'calibrates %s so about 1% of fresh healthy samples score ≥ 0.5',
    (method) => {
      const b = fitBaseline(method, CENTRIFUGAL_PUMP, healthy, { source: 'test' });
      const state = createAnomalyState(b);
      const fresh = simulatePump(8, 4000).rows;
      const alarms = fresh.filter((r) => scoreAnomaly(b, state, r).score >= 0.5).length / fresh.length;
      // In-sample the rate is 1% by construction; out of sample, on 4,000 autocorrelated samples, 0.2–4%.
      expect(alarms).toBeGreaterThan(0.002);
      expect(alarms).toBeLessThan(0.04);
    },
  );

  it('is deterministic', () => {
    const a = fitBaseline('mahalanobis', CENTRIFUGAL_PUMP, healthy, { source: 'test', ewmaAlpha: 0.3 });
    const b = fitBaseline('mahalanobis', CENTRIFUGAL_PUMP, healthy, { source: 'test', ewmaAlpha: 0.3 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('rejects sensors the model does not have and too few rows', () => {
    expect(() =>
      fitBaseline('robust-z', CENTRIFUGAL_PUMP, healthy, { source: 't', sensors: ['volt'] }),
    ).toThrow(FitError);
    expect(() => fitBaseline('robust-z', CENTRIFUGAL_PUMP, healthy.slice(0, 3), { source: 't' })).toThrow(
      FitError,
    );
  });
});
