import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f32Text } from '../../../ml/bench/models-bench.ts';
import { stratifiedSplit } from '../../../ml/evaluate/ai4i.ts';
import { nasaScore, rmse } from '../../../ml/evaluate/metrics.ts';

describe('rmse', () => {
  it('is the root of the mean squared difference', () => {
    // errors 3, -4 -> sqrt((9 + 16) / 2)
    expect(rmse([13, 6], [10, 10])).toBeCloseTo(Math.sqrt(12.5), 12);
    expect(rmse([], [])).toBeNaN();
    expect(() => rmse([1], [1, 2])).toThrow(RangeError);
  });
});

describe('nasaScore', () => {
  it('penalises late predictions with e^(d/10) and early ones with e^(-d/13)', () => {
    // d = +10 -> e - 1; d = -13 -> e - 1; d = 0 -> 0
    expect(nasaScore([20, 7, 5], [10, 20, 5])).toBeCloseTo(2 * (Math.E - 1), 12);
  });

  it('scores a late error higher than an equally large early one', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 50, noNaN: true }), (d) => {
        expect(nasaScore([100 + d], [100])).toBeGreaterThan(nasaScore([100 - d], [100]));
      }),
      { numRuns: 100 },
    );
  });
});

describe('f32Text', () => {
  it('reads back to exactly the same float32, and NaN is the empty field', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const s = f32Text(v);
        expect(s).not.toBe('');
        expect(Math.fround(Number(s))).toBe(Math.fround(v));
      }),
      { numRuns: 2000 },
    );
    expect(f32Text(Number.NaN)).toBe('');
    expect(f32Text(1)).toBe('1');
    expect(f32Text(0.1)).toBe('0.1');
  });
});

describe('stratifiedSplit', () => {
  it('partitions the indices and keeps the class ratio in every part', () => {
    // Arrange: 1000 rows, 5% positive.
    const y = Array.from({ length: 1000 }, (_, i) => (i % 20 === 0 ? 1 : 0));
    // Act
    const s = stratifiedSplit(y, 7);
    // Assert
    const all = [...s.train, ...s.valid, ...s.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(s.test).toHaveLength(200);
    expect(s.valid).toHaveLength(160);
    const pos = (idx: Uint32Array) => Array.from(idx).filter((i) => y[i] === 1).length;
    expect(pos(s.test)).toBe(10);
    expect(pos(s.valid)).toBe(8);
    expect(stratifiedSplit(y, 7)).toEqual(s);
    expect(stratifiedSplit(y, 8).test).not.toEqual(s.test);
  });
});
