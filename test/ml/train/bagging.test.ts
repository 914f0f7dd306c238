import { describe, expect, it } from 'vitest';
import { loadXgboostModel, predictBatch } from '../../../lambdas/core/model/index.ts';
import { train } from '../../../ml/gbdt/index.ts';
import { averageBoostersJson, BaggingError } from '../../../ml/train/bagging.ts';

const n = 300;
const f = 3;
const x = Float32Array.from({ length: n * f }, (_, i) => ((i * 7919) % 101) / 10);
const y = Float32Array.from({ length: n }, (_, i) => 3 * x[i * f]! - x[i * f + 1]! + ((i * 31) % 7));

describe('averageBoostersJson', () => {
  it('serves the mean of the boosters as one model, whatever their base scores and tree counts', () => {
    const boosters = [
      train({ objective: 'reg:squarederror', nRounds: 20, maxDepth: 3, subsample: 0.7, seed: 1, baseScore: 10 }, { x, n, f, y }),
      train({ objective: 'reg:squarederror', nRounds: 35, maxDepth: 2, subsample: 0.7, seed: 2, baseScore: 14 }, { x, n, f, y }),
      train({ objective: 'reg:squarederror', nRounds: 5, maxDepth: 4, seed: 3 }, { x, n, f, y }),
    ];

    const merged = loadXgboostModel(averageBoostersJson(boosters, ['a', 'b', 'c']));

    expect(merged.numTrees).toBe(60);
    expect(merged.featureNames).toEqual(['a', 'b', 'c']);
    const each = boosters.map((b) => predictBatch(loadXgboostModel(b.toXgboostJson()), x, n));
    const mean = predictBatch(merged, x, n);
    for (let i = 0; i < n; i++) {
      // float32 sums in a different order: equal to a few ulps of values around 30.
      expect(mean[i]).toBeCloseTo((each[0]![i]! + each[1]![i]! + each[2]![i]!) / 3, 3);
    }
  });

  it('refuses classifiers and an empty list with BaggingError', () => {
    const yy = Float32Array.from(y, (v) => (v > 15 ? 1 : 0));
    const clf = train({ objective: 'binary:logistic', nRounds: 3 }, { x, n, f, y: yy });

    expect(() => averageBoostersJson([clf], ['a', 'b', 'c'])).toThrow(BaggingError);
    expect(() => averageBoostersJson([], [])).toThrow(/no boosters/);
  });
});
