import { describe, expect, it } from 'vitest';
import {
  BestIterationError,
  CategoricalSplitError,
  FeatureCountError,
  LegacyBinaryModelError,
  loadXgboostModel,
  ModelFormatError,
  MultiOutputModelError,
  predict,
  predictBatch,
  predictMargin,
  UnsupportedBoosterError,
  UnsupportedObjectiveError,
} from '../../../lambdas/core/model/index.ts';
import { type ModelSpec, modelJson, modelObject, type TreeSpec, toXgboostUbjson } from './fixtures.ts';

const fr = Math.fround;
// x0 < 0.5 → (x1 < 2 → 1 | 3); else 10. Missing x0 goes right, missing x1 goes left.
const STUMP: TreeSpec = {
  f: 0,
  cond: 0.5,
  defaultLeft: false,
  left: { f: 1, cond: 2, defaultLeft: true, left: { leaf: 1 }, right: { leaf: 3 } },
  right: { leaf: 10 },
};
const identity = (trees: TreeSpec[], extra: Partial<ModelSpec> = {}): ModelSpec => ({
  trees,
  numFeatures: 2,
  objective: 'reg:squarederror',
  baseScore: '0E0',
  ...extra,
});

describe('loadXgboostModel', () => {
  it('reads the header fields', () => {
    const m = loadXgboostModel(modelJson(identity([STUMP, STUMP], { featureNames: ['temp', 'rpm'] })));

    expect(m.numFeatures).toBe(2);
    expect(m.numTrees).toBe(2);
    expect(m.objective).toBe('reg:squarederror');
    expect(m.featureNames).toEqual(['temp', 'rpm']);
    expect(m.maxDepth).toBe(2);
  });

  it('leaves featureNames undefined when the model has an empty list', () => {
    expect(loadXgboostModel(modelJson(identity([STUMP]))).featureNames).toBeUndefined();
  });

  it('loads the same model from JSON text, JSON bytes and xgboost-style UBJSON', () => {
    const spec = identity([STUMP, { f: 1, cond: -1.25, left: { leaf: -0.5 }, right: { leaf: 0.25 } }]);
    const fromText = loadXgboostModel(modelJson(spec));
    const fromBytes = loadXgboostModel(new TextEncoder().encode(`  \n${modelJson(spec)}`));
    const fromUbj = loadXgboostModel(toXgboostUbjson(modelObject(spec)));
    const rows = [
      [0, 0],
      [1, -2],
      [Number.NaN, 5],
      [0.2, Number.NaN],
    ];

    for (const row of rows) {
      const expected = predictMargin(fromText, row);
      expect(predictMargin(fromBytes, row)).toBe(expected);
      expect(predictMargin(fromUbj, row)).toBe(expected);
    }
  });
});

describe('predictMargin', () => {
  const m = loadXgboostModel(modelJson(identity([STUMP])));

  it('sends a value equal to the split right (strict <)', () => {
    expect(predictMargin(m, [0.5, 0])).toBe(10);
    expect(predictMargin(m, [0.25, 2])).toBe(3);
    expect(predictMargin(m, [0.25, 1.999])).toBe(1);
  });

  it('routes NaN by default_left', () => {
    expect(predictMargin(m, [Number.NaN, 0])).toBe(10); // default right
    expect(predictMargin(m, [0, Number.NaN])).toBe(1); // default left
  });

  it('sends infinities by comparison, not as missing', () => {
    expect(predictMargin(m, [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY])).toBe(3);
    expect(predictMargin(m, [Number.POSITIVE_INFINITY, 0])).toBe(10);
  });

  it('compares the input after rounding it to float32', () => {
    // The split is float32(0.1) = 0.10000000149; the double 0.1 is below it but float32(0.1) equals it,
    // so libxgboost (float32 DMatrix) sends 0.1 right.
    const tree: TreeSpec = { f: 0, cond: 0.1, left: { leaf: -1 }, right: { leaf: 1 } };
    const m01 = loadXgboostModel(modelJson(identity([tree])));

    expect(predictMargin(m01, [0.1, 0])).toBe(1);
    expect(predictMargin(m01, [0.09999999, 0])).toBe(-1);
  });

  it('rounds the accumulator to float32 after every tree', () => {
    // 2^24 + 1 is not a float32: float32 addition rounds it back to 2^24 (ties to even); float64 would not.
    const big: TreeSpec = { leaf: 2 ** 24 };
    const one: TreeSpec = { leaf: 1 };
    const m2 = loadXgboostModel(modelJson(identity([big, one, one])));

    expect(predictMargin(m2, [0, 0])).toBe(2 ** 24);
  });

  it('starts from ProbToMargin(base_score) in float32', () => {
    const leaf0: TreeSpec = { leaf: 0 };
    const logistic = loadXgboostModel(
      modelJson(identity([leaf0], { objective: 'binary:logistic', baseScore: '3E-1' })),
    );
    const poisson = loadXgboostModel(
      modelJson(identity([leaf0], { objective: 'count:poisson', baseScore: '2E0' })),
    );
    const raw = loadXgboostModel(
      modelJson(identity([leaf0], { objective: 'binary:logitraw', baseScore: '5E-1' })),
    );

    expect(logistic.baseMargin).toBeCloseTo(Math.log(0.3 / 0.7), 6);
    expect(Math.fround(logistic.baseMargin)).toBe(logistic.baseMargin);
    expect(poisson.baseMargin).toBe(fr(Math.log(2)));
    expect(Math.abs(raw.baseMargin)).toBe(0); // -log(1) is -0, as in libxgboost
  });

  it('reads base_score in the array form of xgboost ≥ 3.1 like the scalar form', () => {
    const scalar = loadXgboostModel(
      modelJson(identity([STUMP], { objective: 'binary:logistic', baseScore: '5.449E-1' })),
    );
    const array = loadXgboostModel(
      modelJson(identity([STUMP], { objective: 'binary:logistic', baseScore: '[5.449E-1]' })),
    );

    expect(array.baseMargin).toBe(scalar.baseMargin);
    expect(array.baseScore).toBe(fr(0.5449));
  });

  it('rejects a row with the wrong feature count', () => {
    expect(() => predictMargin(m, [1])).toThrow(FeatureCountError);
  });
});

describe('predict', () => {
  it('applies xgboost float32 sigmoid, clamped so large negative margins stay above 0', () => {
    const tree = (v: number): TreeSpec => ({ leaf: v });
    const at = (margin: number): number =>
      predict(
        loadXgboostModel(
          modelJson(identity([tree(margin)], { objective: 'binary:logistic', baseScore: '5E-1' })),
        ),
        [0, 0],
      );

    expect(at(0)).toBe(0.5);
    expect(at(-100)).toBeGreaterThan(0);
    expect(at(-100)).toBeLessThan(1e-38);
    expect(at(100)).toBe(1);
    expect(fr(at(1.5))).toBe(at(1.5));
    expect(Math.abs(at(1.5) - 1 / (1 + Math.exp(-1.5)))).toBeLessThan(1e-7);
  });

  it('applies exp for log-link objectives and identity for regression', () => {
    const leaf: TreeSpec = { leaf: 0.5 };
    const gamma = loadXgboostModel(modelJson(identity([leaf], { objective: 'reg:gamma', baseScore: '1E0' })));
    const reg = loadXgboostModel(modelJson(identity([leaf])));

    expect(predict(gamma, [0, 0])).toBe(fr(Math.exp(0.5)));
    expect(predict(reg, [0, 0])).toBe(0.5);
  });
});

describe('predictBatch', () => {
  it('equals predict row by row, across block boundaries and with NaN', () => {
    const trees: TreeSpec[] = [];
    for (let t = 0; t < 7; t++) {
      trees.push({
        f: t % 2,
        cond: t - 3,
        defaultLeft: t % 3 === 0,
        left: { f: 1 - (t % 2), cond: 0.5 * t, left: { leaf: 0.1 * t }, right: { leaf: -0.3 } },
        right: { leaf: 0.7 - 0.05 * t },
      });
    }
    const m = loadXgboostModel(
      modelJson(identity(trees, { objective: 'binary:logistic', baseScore: '4E-1' })),
    );
    const n = 150;
    const rows = new Float32Array(n * 2);
    for (let i = 0; i < rows.length; i++) rows[i] = i % 17 === 0 ? Number.NaN : ((i * 37) % 23) - 11;

    const out = predictBatch(m, rows, n);
    const margins = predictBatch(m, rows, n, new Float64Array(n), true);

    for (let r = 0; r < n; r++) {
      const row = rows.subarray(r * 2, r * 2 + 2);
      expect(out[r]).toBe(predict(m, row));
      expect(margins[r]).toBe(predictMargin(m, row));
    }
  });

  it('rejects a buffer shorter than n rows', () => {
    const m = loadXgboostModel(modelJson(identity([STUMP])));
    expect(() => predictBatch(m, new Float32Array(3), 2)).toThrow(FeatureCountError);
  });
});

describe('loadXgboostModel rejections', () => {
  const json = (spec: Partial<ModelSpec>, over: Record<string, unknown> = {}): string =>
    modelJson(identity([STUMP], spec), over);

  it('rejects the legacy binary format by name', () => {
    const bytes = new Uint8Array([0x62, 0x69, 0x6e, 0x66, 0, 0, 0, 0]);
    expect(() => loadXgboostModel(bytes)).toThrow(LegacyBinaryModelError);
    expect(() => loadXgboostModel('binf\u0000\u0000')).toThrow(/legacy binary/);
  });

  it('rejects bytes that are neither JSON nor UBJSON', () => {
    expect(() => loadXgboostModel(new Uint8Array([0x7b, 0x31]))).toThrow(ModelFormatError);
    expect(() => loadXgboostModel(new Uint8Array([0x5b, 0x5d]))).toThrow(ModelFormatError);
    expect(() => loadXgboostModel('{"learner": ')).toThrow(ModelFormatError);
  });

  it('rejects categorical splits', () => {
    expect(() => loadXgboostModel(json({}, { split_type: [1, 0, 0, 0, 0] }))).toThrow(CategoricalSplitError);
    expect(() => loadXgboostModel(json({}, { categories: [2], categories_nodes: [0] }))).toThrow(
      CategoricalSplitError,
    );
  });

  it('rejects multi-class and multi-target models', () => {
    expect(() => loadXgboostModel(json({ numClass: '3' }))).toThrow(MultiOutputModelError);
    expect(() => loadXgboostModel(json({ numTarget: '2' }))).toThrow(MultiOutputModelError);
    expect(() => loadXgboostModel(json({ baseScore: '[5E-1,2E-1]' }))).toThrow(MultiOutputModelError);
    expect(() => loadXgboostModel(json({ objective: 'multi:softprob' }))).toThrow(MultiOutputModelError);
  });

  it('rejects unknown objectives and non-gbtree boosters', () => {
    expect(() => loadXgboostModel(json({ objective: 'rank:pairwise' }))).toThrow(UnsupportedObjectiveError);
    expect(() => loadXgboostModel(json({ booster: 'dart' }))).toThrow(UnsupportedBoosterError);
  });

  it('rejects a best iteration below the tree count, or truncates when asked', () => {
    const spec = identity([{ leaf: 1 }, { leaf: 2 }, { leaf: 4 }], {
      attributes: { best_iteration: '1', best_ntree_limit: '2' },
    });
    const text = modelJson(spec);

    expect(() => loadXgboostModel(text)).toThrow(BestIterationError);
    const m = loadXgboostModel(text, { truncateToBestIteration: true });
    expect(m.numTrees).toBe(2);
    expect(predictMargin(m, [0, 0])).toBe(3);
  });

  it('accepts best-iteration attributes that cover every tree', () => {
    const spec = identity([STUMP, STUMP], { attributes: { best_iteration: '1', best_ntree_limit: '2' } });
    expect(loadXgboostModel(modelJson(spec)).numTrees).toBe(2);
  });

  it('rejects structurally broken trees with a reason', () => {
    expect(() => loadXgboostModel(json({}, { left_children: [1, 2, -1, -1, -1] }))).toThrow(/reached twice/);
    expect(() => loadXgboostModel(json({}, { split_indices: [0, 7, 0, 0, 0] }))).toThrow(/feature 7/);
    expect(() => loadXgboostModel(json({}, { right_children: [2, 9, -1, -1, -1] }))).toThrow(/outside/);
    expect(() => loadXgboostModel(json({}, { sum_hessian: [1, 1] }))).toThrow(/sum_hessian has 2 entries/);
    expect(() => loadXgboostModel(json({ baseScore: 'abc' }))).toThrow(/base_score/);
    expect(() => loadXgboostModel(json({ objective: 'binary:logistic', baseScore: '1E0' }))).toThrow(
      /must lie in \(0, 1\)/,
    );
  });
});
