import { describe, expect, it } from 'vitest';
import {
  type Dataset,
  TrainInputError,
  TrainParamError,
  type TrainParams,
  train,
} from '../../../ml/gbdt/index.ts';
import { makeSynthetic } from '../../../ml/gbdt/synthetic.ts';
import { firstBitDifference, walkMargins } from './walk.ts';

const small = makeSynthetic(3000, 8, 'binary:logistic', 5);
const smallValid = makeSynthetic(1000, 8, 'binary:logistic', 6);

const internalNodes = (b: ReturnType<typeof train>): number =>
  b.trees.reduce((s, t) => s + Array.from(t.left).filter((l) => l !== -1).length, 0);

describe('train', () => {
  it('is deterministic for a seed and differs across seeds when sampling', () => {
    const p: Partial<TrainParams> = {
      objective: 'binary:logistic',
      nRounds: 15,
      subsample: 0.7,
      colsampleBytree: 0.5,
      seed: 42,
    };
    const a = train(p, small).toXgboostJson();
    const b = train(p, small).toXgboostJson();
    const c = train({ ...p, seed: 43 }, small).toXgboostJson();
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('accumulates training margins bit for bit as a raw x < cond walk does, with row sampling', () => {
    const b = train(
      { objective: 'binary:logistic', nRounds: 20, subsample: 0.6, seed: 3 },
      small,
      smallValid,
    );
    expect(firstBitDifference(b.trainMargins, walkMargins(b, small.x, small.n, small.f))).toBe(-1);
    expect(firstBitDifference(b.validMargins, walkMargins(b, smallValid.x, smallValid.n, smallValid.f))).toBe(
      -1,
    );
  });

  it('truncates to the best validation round when early stopping fires', () => {
    // Arrange: a validation set whose labels are unrelated to x, so the metric soon stops improving.
    const noisy: Dataset = { ...smallValid, y: makeSynthetic(1000, 8, 'binary:logistic', 99).y };
    // Act
    const b = train(
      { objective: 'binary:logistic', nRounds: 200, eta: 0.3, earlyStoppingRounds: 5 },
      small,
      noisy,
    );
    // Assert
    const h = b.history.valid;
    const best = h.indexOf(Math.min(...h));
    expect(b.bestIteration).toBe(best);
    expect(b.trees.length).toBe(best + 1);
    expect(h.length).toBe(best + 6);
    expect(h.length).toBeLessThan(200);
    expect(firstBitDifference(b.trainMargins, walkMargins(b, small.x, small.n, small.f))).toBe(-1);
    expect(firstBitDifference(b.validMargins, walkMargins(b, noisy.x, noisy.n, noisy.f))).toBe(-1);
    const json = JSON.parse(b.toXgboostJson());
    expect(json.learner.gradient_booster.model.gbtree_model_param.num_trees).toBe(String(best + 1));
    expect(json.learner.attributes).toEqual({});
  });

  it('treats a row of weight 2 as the same row twice', () => {
    // Integer features with few distinct values give identical cuts for both datasets.
    const n = 400;
    const base = makeSynthetic(n, 4, 'reg:squarederror', 8, 0.05);
    const x = Float32Array.from(base.x, (v) => (Number.isNaN(v) ? v : Math.round(v * 3) / 3));
    const w = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 2 : 1));
    const dupRows: number[] = [];
    for (let i = 0; i < n; i++) for (let k = 0; k < w[i]!; k++) dupRows.push(i);
    const dx = new Float32Array(dupRows.length * 4);
    dupRows.forEach((r, k) => {
      dx.set(x.subarray(r * 4, r * 4 + 4), k * 4);
    });
    const dy = Float32Array.from(dupRows, (r) => base.y[r]!);
    const p: Partial<TrainParams> = { objective: 'reg:squarederror', nRounds: 10, maxDepth: 4 };

    const weighted = train(p, { x, n, f: 4, y: base.y, weight: w });
    const duplicated = train(p, { x: dx, n: dupRows.length, f: 4, y: dy });

    expect(weighted.trees.length).toBe(duplicated.trees.length);
    weighted.trees.forEach((t, i) => {
      const d = duplicated.trees[i]!;
      expect(Array.from(t.feature)).toEqual(Array.from(d.feature));
      expect(Array.from(t.left)).toEqual(Array.from(d.left));
      for (let k = 0; k < t.cond.length; k++) expect(t.cond[k]!).toBeCloseTo(d.cond[k]!, 5);
    });
  });

  it('prunes every split under a large gamma and keeps only splits that reach it', () => {
    const none = train({ objective: 'binary:logistic', nRounds: 5, gamma: 1e6 }, small);
    expect(internalNodes(none)).toBe(0);
    const some = train({ objective: 'binary:logistic', nRounds: 5, gamma: 5 }, small);
    const all = train({ objective: 'binary:logistic', nRounds: 5, gamma: 0 }, small);
    expect(internalNodes(some)).toBeGreaterThan(0);
    expect(internalNodes(some)).toBeLessThan(internalNodes(all));
    for (const t of some.trees) {
      for (let k = 0; k < t.left.length; k++)
        if (t.left[k] !== -1) expect(t.lossChange[k]!).toBeGreaterThanOrEqual(5);
    }
  });

  it('keeps every child at or above min_child_weight', () => {
    const b = train({ objective: 'binary:logistic', nRounds: 5, minChildWeight: 30 }, small);
    const loose = train({ objective: 'binary:logistic', nRounds: 5, minChildWeight: 0 }, small);
    expect(internalNodes(b)).toBeGreaterThan(0);
    expect(internalNodes(b)).toBeLessThan(internalNodes(loose));
    for (const t of b.trees)
      for (let k = 1; k < t.left.length; k++) expect(t.sumHessian[k]!).toBeGreaterThanOrEqual(30);
    const stump = train({ objective: 'binary:logistic', nRounds: 2, minChildWeight: 1e9 }, small);
    expect(internalNodes(stump)).toBe(0);
  });

  it('never splits on an all-NaN or a constant feature', () => {
    const n = small.n;
    const f = small.f + 2;
    const x = new Float32Array(n * f);
    for (let i = 0; i < n; i++) {
      x.set(small.x.subarray(i * small.f, (i + 1) * small.f), i * f);
      x[i * f + small.f] = Number.NaN;
      x[i * f + small.f + 1] = 1.5;
    }
    const b = train({ objective: 'binary:logistic', nRounds: 10 }, { x, n, f, y: small.y });
    for (const t of b.trees) {
      for (let k = 0; k < t.left.length; k++)
        if (t.left[k] !== -1) expect(t.feature[k]!).toBeLessThan(small.f);
    }
    const onlyNaN = train(
      { nRounds: 3 },
      { x: new Float32Array(50).fill(Number.NaN), n: 50, f: 1, y: small.y.subarray(0, 50) },
    );
    expect(internalNodes(onlyNaN)).toBe(0);
  });

  it('learns where missing values go from the data', () => {
    // y is high exactly when x is missing: the split must send NaN to the high side.
    const n = 400;
    const x = Float32Array.from({ length: n }, (_, i) => (i % 4 === 0 ? Number.NaN : i % 7));
    const y = Float32Array.from(x, (v) => (Number.isNaN(v) ? 5 : v < 3 ? 5 : 0));
    const b = train({ objective: 'reg:squarederror', nRounds: 1, maxDepth: 1, eta: 1 }, { x, n, f: 1, y });
    const t = b.trees[0]!;
    expect(t.cond[0]).toBe(3);
    expect(t.defaultLeft[0]).toBe(1);
  });

  it('stores leaf values as float32 eta-scaled weights −G/(H+λ)', () => {
    const n = 10;
    const x = new Float32Array(n).fill(1);
    const y = Float32Array.from({ length: n }, (_, i) => i);
    const b = train(
      { objective: 'reg:squarederror', nRounds: 1, eta: 0.3, lambda: 2, baseScore: 0 },
      { x, n, f: 1, y },
    );
    // G = Σ(0 − y) = −45, H = 10 → w = 45/12, leaf = f32(f32(w) · f32(0.3)).
    const f = Math.fround;
    expect(b.trees[0]!.cond[0]).toBe(f(f(45 / 12) * f(0.3)));
    expect(b.trees[0]!.sumHessian[0]).toBe(10);
  });

  it('rejects bad input and parameters with named errors', () => {
    const x = Float32Array.from([1, Number.POSITIVE_INFINITY]);
    const y = Float32Array.from([0, 1]);
    expect(() => train({}, { x, n: 2, f: 1, y })).toThrow(TrainInputError);
    expect(() => train({}, { x: new Float32Array(3), n: 2, f: 1, y })).toThrow(/n × f/);
    expect(() =>
      train(
        { objective: 'binary:logistic' },
        { x: new Float32Array(2), n: 2, f: 1, y: Float32Array.from([0, 2]) },
      ),
    ).toThrow(TrainInputError);
    expect(() =>
      train(
        { objective: 'count:poisson' },
        { x: new Float32Array(2), n: 2, f: 1, y: Float32Array.from([0, -1]) },
      ),
    ).toThrow(TrainInputError);
    expect(() => train({ eta: 0 }, small)).toThrow(TrainParamError);
    expect(() => train({ subsample: 1.5 }, small)).toThrow(TrainParamError);
    expect(() => train({ earlyStoppingRounds: 3 }, small)).toThrow(/validation/);
    expect(() => train({}, small, makeSynthetic(10, 3, 'binary:logistic', 1))).toThrow(/features/);
  });
});
