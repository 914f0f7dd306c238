import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TrainedTree } from '../../../ml/gbdt/index.ts';
import { formatFloat, train, writeXgboostJson } from '../../../ml/gbdt/index.ts';

const FLOAT_FIELDS = ['split_conditions', 'base_weights', 'loss_changes', 'sum_hessian'];

/** Raw number tokens of an array field, as written (JSON.parse would hide `0` vs `0.0`). */
function rawTokens(json: string, field: string): string[] {
  const out: string[] = [];
  for (const m of json.matchAll(new RegExp(`"${field}":\\[([^\\]]*)\\]`, 'g'))) {
    if (m[1]) out.push(...m[1].split(','));
  }
  return out;
}

const leafOnly = (value: number, hess: number): TrainedTree => ({
  left: Int32Array.of(-1),
  right: Int32Array.of(-1),
  parent: Int32Array.of(2147483647),
  feature: Int32Array.of(0),
  cond: Float32Array.of(value),
  defaultLeft: Uint8Array.of(0),
  lossChange: Float32Array.of(0),
  sumHessian: Float32Array.of(hess),
  baseWeight: Float32Array.of(value),
});

describe('formatFloat', () => {
  it('always writes a decimal point or exponent', () => {
    expect(formatFloat(0)).toBe('0.0');
    expect(formatFloat(-0)).toBe('0.0');
    expect(formatFloat(4)).toBe('4.0');
    expect(formatFloat(0.3)).toBe('0.3');
    expect(formatFloat(Math.fround(0.1) + 1e-9)).toBe('0.1');
    expect(formatFloat(123456789)).toMatch(/[.eE]/);
    expect(formatFloat(3.4e38)).toMatch(/e\+38$/);
  });

  it('round-trips every float32', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const s = formatFloat(v);
        expect(s).toMatch(/[.eE]/);
        expect(Math.fround(Number(s))).toBe(Math.fround(v) === 0 ? 0 : Math.fround(v));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses NaN and infinities, which JSON cannot hold', () => {
    expect(() => formatFloat(Number.NaN)).toThrow(RangeError);
    expect(() => formatFloat(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('writeXgboostJson', () => {
  it('writes a zero leaf and integral hessian sums as float literals', () => {
    const json = writeXgboostJson({
      objective: 'reg:squarederror',
      baseScore: 0.5,
      numFeature: 3,
      trees: [leafOnly(0, 4)],
      scalePosWeight: 1,
      maxDeltaStep: 0,
    });
    expect(rawTokens(json, 'split_conditions')).toEqual(['0.0']);
    expect(rawTokens(json, 'sum_hessian')).toEqual(['4.0']);
    for (const field of FLOAT_FIELDS) for (const tok of rawTokens(json, field)) expect(tok).toMatch(/[.eE]/);
  });

  it('writes every field xgboost 1.7.4 requires, with a scalar base_score and no best_ntree_limit', () => {
    const d = {
      x: Float32Array.from({ length: 200 }, (_, i) => (i % 13 === 0 ? Number.NaN : i % 17)),
      n: 100,
      f: 2,
      y: Float32Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
      featureNames: ['a', 'b'],
    };
    const b = train({ objective: 'binary:logistic', nRounds: 3, maxDepth: 3, minChildWeight: 0.1 }, d);
    const text = b.toXgboostJson();
    const j = JSON.parse(text);
    const learner = j.learner;
    expect(learner.attributes).toEqual({});
    expect(learner.feature_names).toEqual(['a', 'b']);
    expect(learner.learner_model_param).toMatchObject({ num_class: '0', num_feature: '2' });
    expect(typeof learner.learner_model_param.base_score).toBe('string');
    expect(Number(learner.learner_model_param.base_score)).toBe(0.5);
    expect(learner.objective).toEqual({
      name: 'binary:logistic',
      reg_loss_param: { scale_pos_weight: '1.0' },
    });
    const model = learner.gradient_booster.model;
    expect(model.gbtree_model_param.num_trees).toBe('3');
    expect(model.tree_info).toEqual([0, 0, 0]);
    model.trees.forEach((t: Record<string, unknown>, i: number) => {
      const nn = Number((t.tree_param as Record<string, string>).num_nodes);
      expect(t.id).toBe(i);
      expect((t.tree_param as Record<string, string>).num_deleted).toBe('0');
      for (const k of [
        'left_children',
        'right_children',
        'parents',
        'split_indices',
        'default_left',
        ...FLOAT_FIELDS,
      ]) {
        expect((t[k] as unknown[]).length).toBe(nn);
      }
      expect((t.parents as number[])[0]).toBe(2147483647);
      for (const k of ['categories', 'categories_nodes', 'categories_segments', 'categories_sizes'])
        expect(t[k]).toEqual([]);
    });
    for (const field of FLOAT_FIELDS) for (const tok of rawTokens(text, field)) expect(tok).toMatch(/[.eE]/);
  });

  it('writes the Poisson objective with its max_delta_step', () => {
    const json = writeXgboostJson({
      objective: 'count:poisson',
      baseScore: 0.5,
      numFeature: 1,
      trees: [leafOnly(0.25, 1)],
      scalePosWeight: 1,
      maxDeltaStep: 0.7,
    });
    expect(JSON.parse(json).learner.objective).toEqual({
      name: 'count:poisson',
      poisson_regression_param: { max_delta_step: '0.7' },
    });
  });
});
