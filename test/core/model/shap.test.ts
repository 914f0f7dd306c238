import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  contributions,
  loadXgboostModel,
  predictMargin,
  UnsupportedModelError,
} from '../../../lambdas/core/model/index.ts';
import { modelJson, type TreeSpec } from './fixtures.ts';

const NF = 4;

/** Random trees up to depth 4 that may split on the same feature twice on one path. */
const treeArb: fc.Arbitrary<TreeSpec> = fc.letrec<{ node: TreeSpec }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({
      leaf: fc.integer({ min: -40, max: 40 }).map((v) => v / 8),
      cover: fc.integer({ min: 1, max: 9 }),
    }),
    fc.record({
      f: fc.integer({ min: 0, max: NF - 1 }),
      cond: fc.integer({ min: -3, max: 3 }),
      defaultLeft: fc.boolean(),
      left: tie('node'),
      right: tie('node'),
    }),
  ),
})).node;

const rowArb = fc.array(fc.oneof(fc.integer({ min: -4, max: 4 }), fc.constant(Number.NaN)), {
  minLength: NF,
  maxLength: NF,
});

/** Cover of a spec node as the fixture writes it (children's sum). */
function cover(t: TreeSpec): number {
  if (t.cover !== undefined) return t.cover;
  return 'leaf' in t ? 1 : cover(t.left) + cover(t.right);
}

/** E[f(x) | x_S] by the path-dependent (cover-weighted) definition; the reference TreeSHAP must match. */
function expectation(t: TreeSpec, x: readonly number[], inS: (f: number) => boolean): number {
  if ('leaf' in t) return Math.fround(t.leaf);
  if (inS(t.f)) {
    const v = Math.fround(x[t.f]!);
    const goLeft = Number.isNaN(v) ? t.defaultLeft === true : v < Math.fround(t.cond);
    return expectation(goLeft ? t.left : t.right, x, inS);
  }
  return (
    (cover(t.left) * expectation(t.left, x, inS) + cover(t.right) * expectation(t.right, x, inS)) / cover(t)
  );
}

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

/** Shapley values by enumerating all 2^M coalitions: exponential, independent of the algorithm under test. */
function bruteForce(trees: readonly TreeSpec[], x: readonly number[]): number[] {
  const value = (mask: number): number =>
    trees.reduce((s, t) => s + expectation(t, x, (f) => (mask & (1 << f)) !== 0), 0);
  const phi = new Array<number>(NF + 1).fill(0);
  for (let i = 0; i < NF; i++) {
    for (let mask = 0; mask < 1 << NF; mask++) {
      if (mask & (1 << i)) continue;
      let size = 0;
      for (let b = 0; b < NF; b++) size += (mask >> b) & 1;
      const weight = (factorial(size) * factorial(NF - size - 1)) / factorial(NF);
      phi[i]! += weight * (value(mask | (1 << i)) - value(mask));
    }
  }
  phi[NF] = value(0);
  return phi;
}

describe('contributions', () => {
  it('equals Shapley values enumerated over all coalitions', () => {
    fc.assert(
      fc.property(fc.array(treeArb, { minLength: 1, maxLength: 3 }), rowArb, (trees, row) => {
        // Arrange
        const m = loadXgboostModel(modelJson({ trees, numFeatures: NF, baseScore: '2.5E-1' }));
        const expected = bruteForce(trees, row);
        expected[NF]! += m.baseMargin;

        // Act
        const phi = contributions(m, row);

        // Assert
        for (let j = 0; j <= NF; j++) expect(phi[j]).toBeCloseTo(expected[j]!, 9);
      }),
      { numRuns: 300 },
    );
  });

  it('sums to the margin (local accuracy)', () => {
    fc.assert(
      fc.property(fc.array(treeArb, { minLength: 1, maxLength: 5 }), rowArb, (trees, row) => {
        const m = loadXgboostModel(modelJson({ trees, numFeatures: NF, objective: 'binary:logistic' }));
        const phi = contributions(m, row, new Float64Array(NF + 1));
        const sum = phi.reduce((a, b) => a + b, 0);
        expect(sum).toBeCloseTo(predictMargin(m, row), 5);
      }),
      { numRuns: 200 },
    );
  });

  it('gives zero to features the trees never split on', () => {
    const tree: TreeSpec = { f: 2, cond: 0, left: { leaf: -1, cover: 3 }, right: { leaf: 2, cover: 1 } };
    const m = loadXgboostModel(modelJson({ trees: [tree], numFeatures: NF, baseScore: '0E0' }));

    const phi = contributions(m, [5, 5, -1, 5]);

    // Bias is the cover-weighted mean (3·-1 + 1·2)/4; feature 2 moves it to the left leaf.
    expect([...phi]).toEqual([0, 0, -0.75, 0, -0.25]);
  });

  it('refuses a model with a zero cover, where the attribution divides by zero', () => {
    const tree: TreeSpec = { f: 0, cond: 0, left: { leaf: 1, cover: 0 }, right: { leaf: 2, cover: 1 } };
    const m = loadXgboostModel(modelJson({ trees: [tree], numFeatures: NF, baseScore: '0E0' }));

    expect(() => contributions(m, [0, 0, 0, 0])).toThrow(UnsupportedModelError);
  });
});
