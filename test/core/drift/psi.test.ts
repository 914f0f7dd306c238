import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addToBins,
  assetModelDrift,
  minHoursOf,
  binCount,
  binOf,
  buildReference,
  compileReference,
  countVectors,
  DEFAULT_PSI_THRESHOLD,
  DriftInputError,
  emptyCounts,
  featureReference,
  mergeCounts,
  psi,
  PSI_EPSILON,
  quantileEdges,
} from '../../../lambdas/core/drift/index.ts';
import { Rng } from '../../../devices/rng.ts';
import { train } from '../../../ml/gbdt/index.ts';

const finiteOrSpecial = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY) },
);
const sample = fc.array(finiteOrSpecial, { minLength: 1, maxLength: 300 });

function countsOf(edges: readonly number[], values: readonly number[]): number[] {
  const c = new Array<number>(binCount(edges)).fill(0);
  addToBins(edges, values, c);
  return c;
}

describe('binOf', () => {
  const edges = [Math.fround(0.1), 1, 2];

  it('puts a value equal to an edge in the bin above it, as XGBoost sends x < split left', () => {
    expect(binOf(edges, 1)).toBe(2);
    expect(binOf(edges, Math.fround(0.1))).toBe(1);
    expect(binOf(edges, 0.9999999)).toBe(1);
  });

  it('compares in float32: 0.1 as a double lands on the float32 edge 0.1', () => {
    // 0.1 < fround(0.1) in float64, but the evaluator sees fround(0.1) == the split.
    expect(0.1 < Math.fround(0.1)).toBe(true);
    expect(binOf(edges, 0.1)).toBe(1);
  });

  it('sends −Infinity to the bottom bin, +Infinity to the top value bin and NaN to the missing bin', () => {
    expect(binOf(edges, Number.NEGATIVE_INFINITY)).toBe(0);
    expect(binOf(edges, Number.POSITIVE_INFINITY)).toBe(3);
    expect(binOf(edges, Number.NaN)).toBe(4);
    expect(binOf([], Number.NaN)).toBe(1);
    expect(binOf([], 5)).toBe(0);
  });
});

describe('featureReference', () => {
  it('has strictly increasing float32 edges and shares that sum to 1', () => {
    fc.assert(
      fc.property(sample, (values) => {
        const ref = featureReference(values);
        ref.edges.forEach((e, i) => {
          expect(Math.fround(e)).toBe(e);
          expect(Number.isFinite(e)).toBe(true);
          if (i > 0) expect(e).toBeGreaterThan(ref.edges[i - 1]!);
        });
        expect(ref.edges.length).toBeLessThanOrEqual(9);
        expect(ref.shares).toHaveLength(ref.edges.length + 2);
        expect(ref.shares.reduce((a, s) => a + s, 0)).toBeCloseTo(1, 5);
      }),
    );
  });

  it('cuts continuous data into ten bins of about a tenth each', () => {
    const rng = new Rng(3);
    const values = Array.from({ length: 10_000 }, () => rng.normal());
    const ref = featureReference(values);
    expect(ref.edges).toHaveLength(9);
    for (const s of ref.shares.slice(0, 10)) expect(s).toBeCloseTo(0.1, 3);
    expect(ref.shares[10]).toBe(0);
  });

  it('gives missing values a bin of their own', () => {
    const values = [1, 2, 3, 4, Number.NaN, Number.NaN, 5, 6, 7, 8];
    const ref = featureReference(values);
    expect(ref.shares.at(-1)).toBeCloseTo(0.2, 6);
  });

  it('merges tied quantiles and keeps no edge for a constant feature', () => {
    expect(quantileEdges([0, 0, 0, 0, 0, 0, 0, 0, 1, 2])).toEqual([1, 2]);
    expect(featureReference([3, 3, 3])).toEqual({ edges: [], shares: [1, 0] });
  });
});

describe('psi', () => {
  it('is never negative', () => {
    fc.assert(
      fc.property(sample, sample, (ref, cur) => {
        const r = featureReference(ref);
        expect(psi(r.shares, countsOf(r.edges, cur))).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('is about zero for the reference distribution itself', () => {
    fc.assert(
      fc.property(sample, (values) => {
        const r = featureReference(values);
        // Shares are stored to 1e-6; the floor ε only lifts bins that are empty in both.
        expect(psi(r.shares, countsOf(r.edges, values))).toBeLessThan(1e-6);
      }),
    );
  });

  it('does not depend on the order of the rows', () => {
    fc.assert(
      fc.property(sample, sample, fc.integer(), (ref, cur, seed) => {
        const r = featureReference(ref);
        const rng = new Rng(seed);
        const shuffled = [...cur];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        expect(psi(r.shares, countsOf(r.edges, shuffled))).toBeCloseTo(psi(r.shares, countsOf(r.edges, cur)), 12);
      }),
    );
  });

  it('grows as the distribution shifts further from the reference', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.double({ min: 0.25, max: 1.5, noNaN: true }), (seed, step) => {
        const rng = new Rng(seed);
        const base = Array.from({ length: 4000 }, () => rng.normal());
        const r = featureReference(base);
        const at = (shift: number) => psi(r.shares, countsOf(r.edges, base.map((v) => v + shift)));
        expect(at(step)).toBeGreaterThan(at(0));
        expect(at(2 * step)).toBeGreaterThan(at(step));
      }),
    );
  });

  it('stays finite when a reference bin is empty, through the ε floor', () => {
    const value = psi([0.5, 0.5, 0], [0, 10, 10]);
    expect(Number.isFinite(value)).toBe(true);
    // Two floored terms: (ε − 0.5)·ln(ε/0.5) + (0.5 − ε)·ln(0.5/ε).
    const expected = (PSI_EPSILON - 0.5) * Math.log(PSI_EPSILON / 0.5) + (0.5 - PSI_EPSILON) * Math.log(0.5 / PSI_EPSILON);
    expect(value).toBeCloseTo(expected, 9);
  });

  it('rejects counts that do not match the reference bins, or no rows', () => {
    expect(() => psi([0.5, 0.5], [1, 2, 3])).toThrow(DriftInputError);
    expect(() => psi([0.5, 0.5], [0, 0])).toThrow(DriftInputError);
  });
});

describe('shift of a top feature', () => {
  it('puts PSI above the 0.2 threshold for a 2-sigma shift and keeps it low without one', () => {
    const rng = new Rng(11);
    const n = 2000;
    const names = ['a', 'b'];
    const x = new Float32Array(n * 2);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[2 * i] = rng.normal();
      x[2 * i + 1] = rng.normal();
      y[i] = x[2 * i]! > 0.5 ? 1 : 0;
    }
    const model = train({ objective: 'binary:logistic', nRounds: 5, maxDepth: 2 }, { x, n, f: 2, y, featureNames: names });
    const reference = buildReference({ names, x, n, source: 'test' }, [{ model: model.toXgboostJson(), featureNames: names }]);
    expect(reference.topFeatures[0]!.name).toBe('a');
    const compiled = compileReference(reference, names);
    const window = (shift: number) => {
      const vectors = Array.from({ length: 1000 }, () => [rng.normal() + shift, rng.normal()]);
      return assetModelDrift('m', reference, countVectors(compiled, vectors, emptyCounts(reference)));
    };

    const shifted = window(2);
    const same = window(0);

    expect(shifted.psi).toBeGreaterThan(DEFAULT_PSI_THRESHOLD);
    expect(shifted.feature).toBe('a');
    expect(same.psi).toBeLessThan(0.1);
  });
});

describe('assetModelDrift', () => {
  const names = ['a', 'b'];
  const n = 1000;
  const x = Float32Array.from({ length: n * 2 }, (_, i) => (i % 2 === 0 ? i / 2 : (i * 7) % 13));
  const stump = (feature: number) =>
    JSON.stringify({
      learner: {
        gradient_booster: {
          model: { trees: [{ left_children: [1, -1, -1], split_indices: [feature, 0, 0], loss_changes: [5, 0, 0] }] },
        },
      },
    });
  const reference = buildReference({ names, x, n, source: 'test' }, [
    { model: stump(0), featureNames: names },
    { model: stump(1), featureNames: names },
  ]);

  it('is null, not 0, below the minimum count, and names no feature', () => {
    const counts = emptyCounts(reference);
    countVectors(compileReference(reference, names), [[1, 2]], counts);

    const report = assetModelDrift('m', reference, counts, { minCount: 2 });

    expect(report.psi).toBeNull();
    expect(report.feature).toBeNull();
    expect(report.features.every((f) => f.psi === null)).toBe(true);
    expect(report.rows).toBe(1);
  });

  it('is the max over the top features, naming the feature', () => {
    const compiled = compileReference(reference, names);
    // Feature a far above its training range; b as in training.
    const vectors = Array.from({ length: 600 }, (_, i) => [5000, (i * 7) % 13]);
    const counts = countVectors(compiled, vectors, emptyCounts(reference));

    const report = assetModelDrift('m', reference, counts, { minCount: 500 });

    expect(report.feature).toBe('a');
    expect(report.psi).toBe(Math.max(...report.features.map((f) => f.psi!)));
    expect(report.features[0]!.feature).toBe('a');
  });

  it('is null while the rows cover fewer hours than the window needs, whatever their number', () => {
    const compiled = compileReference(reference, names);
    const counts = countVectors(compiled, Array.from({ length: 600 }, () => [5000, 1]), emptyCounts(reference));

    counts.hours = minHoursOf(24) - 1;
    expect(assetModelDrift('m', reference, counts, { minCount: 500, minHours: minHoursOf(24) }).psi).toBeNull();
    counts.hours = minHoursOf(24);
    expect(assetModelDrift('m', reference, counts, { minCount: 500, minHours: minHoursOf(24) }).psi).toBeGreaterThan(0.2);
  });

  it('sums hourly counts to the counts of the whole window', () => {
    const compiled = compileReference(reference, names);
    const rows = Array.from({ length: 50 }, (_, i) => [i * 20, i % 13]);
    const whole = countVectors(compiled, rows, emptyCounts(reference));
    const merged = mergeCounts(
      countVectors(compiled, rows.slice(0, 20), emptyCounts(reference)),
      countVectors(compiled, rows.slice(20), emptyCounts(reference)),
    );
    expect(merged).toEqual(whole);
  });

  it('gives the same id to the same bins and another to other bins', () => {
    const again = compileReference(reference, ['b', 'a']);
    const other = buildReference({ names, x: x.map((v) => v * 2), n, source: 'test' }, [{ model: stump(0), featureNames: names }]);
    expect(again.id).toBe(compileReference(reference, names).id);
    expect(compileReference(other, names).id).not.toBe(again.id);
  });
});
